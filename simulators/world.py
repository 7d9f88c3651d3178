"""The one deterministic world every simulator is seeded from.

The same people (same usernames and e-mails) have accounts on every legacy system, so a query that
joins sources finds the same human everywhere. Everything is derived from a seed: building the
world twice gives the same data, byte for byte.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TypedDict

__all__ = [
    "DEMO_PASSWORD",
    "Activity",
    "Article",
    "AssignGrade",
    "Assignment",
    "Completion",
    "Contact",
    "ContactGroup",
    "Course",
    "Discussion",
    "Enrolment",
    "Person",
    "Post",
    "Section",
    "SocialGroup",
    "Submission",
    "Tag",
    "World",
    "build_world",
]

DEMO_PASSWORD = "demo-password"
"""Every seeded person's password, so the demo and the tests can log in as anyone."""

EPOCH = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)

FIRST_NAMES = [
    "Ada",
    "Bea",
    "Cal",
    "Dina",
    "Emil",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "Jude",
    "Kemi",
    "Lars",
    "Mina",
    "Noor",
    "Otto",
    "Pia",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wim",
    "Xia",
    "Yusuf",
    "Zoe",
    "Alma",
    "Bruno",
    "Chen",
    "Dara",
]
LAST_NAMES = [
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Patel",
    "Quispe",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Umeh",
    "Varga",
    "Walsh",
    "Yilmaz",
    "Zhou",
    "Abebe",
    "Brennan",
    "Costa",
    "Duarte",
    "Eriksen",
    "Farouk",
]
TAG_NAMES = (
    ("General", "#4d698e", "Anything that fits nowhere else."),
    ("Homework Help", "#b72a38", "Ask and answer questions about coursework."),
    ("Events", "#e87f17", "Meet-ups, open days and fundraisers."),
    ("Volunteering", "#2a9d8f", "Find a role, share a shift."),
    ("Announcements", "#6a4c93", "News from the organisers."),
    ("Clubs", "#1982c4", "Chess, choir, coding and more."),
    ("Feedback", "#8ac926", "What should we do better?"),
    ("Off Topic", "#777777", "Everything else, kindly."),
)
TOPICS = (
    "timetable",
    "bake sale",
    "maths homework",
    "library hours",
    "choir practice",
    "coding club",
    "field trip",
    "charity run",
    "exam revision",
    "garden project",
    "new members",
    "food bank",
    "science fair",
    "website",
    "summer camp",
)
OPENERS = (
    "Does anyone know about the {topic}?",
    "Ideas for the {topic}",
    "Question about the {topic}",
    "Help needed with the {topic}",
    "Update on the {topic}",
    "Thoughts on the {topic} this term",
)
SENTENCES = (
    "I think we should try it next week.",
    "Thanks, that helps a lot!",
    "Could someone share the details?",
    "We did this last year and it went well.",
    "I can bring a few things along.",
    "Let's keep the discussion friendly.",
    "Here is what I found so far.",
    "Does Tuesday work for everyone?",
)


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    joined_at: datetime
    is_admin: bool = False
    systems: frozenset[str] = frozenset({"flarum", "moodle", "civicrm", "elgg", "eqsash"})
    """The systems this person has an account on."""

    def has_account(self, system: str) -> bool:
        return system in self.systems

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class Tag:
    id: int
    name: str
    slug: str
    color: str
    description: str
    position: int


@dataclass(frozen=True)
class Post:
    id: int
    discussion_id: int
    number: int
    author_id: int
    content: str
    created_at: datetime
    edited_at: datetime | None = None


@dataclass(frozen=True)
class Discussion:
    id: int
    title: str
    author_id: int
    created_at: datetime
    tag_ids: tuple[int, ...]
    is_sticky: bool = False
    is_locked: bool = False
    is_hidden: bool = False
    """Soft-deleted: visible to its author and admins only."""
    is_private: bool = False
    """Private (e.g. awaiting approval): visible to its author and admins only."""


@dataclass(frozen=True)
class Course:
    id: int
    shortname: str
    fullname: str
    category: str
    summary: str
    start: datetime
    end: datetime | None
    visible: bool = True


@dataclass(frozen=True)
class Enrolment:
    course_id: int
    person_id: int
    role: str
    """`editingteacher` or `student`, Moodle's role short names."""


@dataclass(frozen=True)
class Assignment:
    id: int
    course_id: int
    name: str
    intro: str
    due: datetime
    cutoff: datetime | None
    max_grade: int


@dataclass(frozen=True)
class Submission:
    assignment_id: int
    person_id: int
    status: str
    """`new`, `draft` or `submitted`."""
    modified: datetime


@dataclass(frozen=True)
class AssignGrade:
    assignment_id: int
    person_id: int
    grade: float
    grader_id: int
    graded_at: datetime


@dataclass(frozen=True)
class Completion:
    course_id: int
    person_id: int
    completed_at: datetime | None


@dataclass(frozen=True)
class Contact:
    """A CiviCRM contact: a person of the world, or an organisation or household."""

    id: int
    contact_type: str
    """`Individual`, `Organization` or `Household`."""
    first_name: str = ""
    last_name: str = ""
    organization_name: str = ""
    household_name: str = ""
    email: str = ""
    phone: str = ""
    street: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = ""
    created_at: datetime = EPOCH
    person_id: int | None = None
    """The world's person this contact is, for individuals who have accounts elsewhere."""


@dataclass(frozen=True)
class ContactGroup:
    id: int
    name: str
    title: str
    description: str
    visibility: str
    """`User and User Admin Only` or `Public Pages`."""


@dataclass(frozen=True)
class SocialGroup:
    """An Elgg group."""

    guid: int
    name: str
    description: str
    is_open: bool
    owner_id: int
    created_at: datetime


@dataclass(frozen=True)
class Activity:
    """An Elgg river item: someone did something, in a group or not."""

    id: int
    person_id: int
    action: str
    """`join`, `create` or `comment`, as Elgg's action types."""
    group_guid: int | None
    object_title: str
    created_at: datetime


@dataclass(frozen=True)
class Section:
    id: int
    name: str
    slug: str


@dataclass(frozen=True)
class Article:
    id: int
    title: str
    slug: str
    summary: str
    body: str
    section_id: int
    author_id: int
    published_at: datetime


@dataclass(frozen=True)
class World:
    people: tuple[Person, ...]
    tags: tuple[Tag, ...]
    discussions: tuple[Discussion, ...]
    posts: tuple[Post, ...] = field(repr=False)
    courses: tuple[Course, ...] = ()
    enrolments: tuple[Enrolment, ...] = field(default=(), repr=False)
    assignments: tuple[Assignment, ...] = field(default=(), repr=False)
    submissions: tuple[Submission, ...] = field(default=(), repr=False)
    grades: tuple[AssignGrade, ...] = field(default=(), repr=False)
    completions: tuple[Completion, ...] = field(default=(), repr=False)
    contacts: tuple[Contact, ...] = field(default=(), repr=False)
    contact_groups: tuple[ContactGroup, ...] = ()
    memberships: tuple[tuple[int, int], ...] = field(default=(), repr=False)
    """(group id, contact id) pairs."""
    social_groups: tuple[SocialGroup, ...] = ()
    social_members: tuple[tuple[int, int], ...] = field(default=(), repr=False)
    """(group guid, person id) pairs."""
    activities: tuple[Activity, ...] = field(default=(), repr=False)
    sections: tuple[Section, ...] = ()
    articles: tuple[Article, ...] = field(default=(), repr=False)

    def person(self, username: str) -> Person:
        return next(p for p in self.people if p.username == username)

    @property
    def admin(self) -> Person:
        return next(p for p in self.people if p.is_admin)


def _slugify(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


@cache
def build_world(scale: int = 1, seed: int = 20240108) -> World:
    """Build the world: 40 people, 8 tags and 60 discussions per unit of `scale`."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    rng = random.Random(seed)
    people = _people(rng, 40 * scale)
    tags = tuple(
        Tag(id=i, name=name, slug=_slugify(name), color=color, description=text, position=i - 1)
        for i, (name, color, text) in enumerate(TAG_NAMES, start=1)
    )
    discussions: list[Discussion] = []
    posts: list[Post] = []
    for discussion_id in range(1, 60 * scale + 1):
        author = rng.choice(people)
        created = EPOCH + timedelta(days=discussion_id // 2, minutes=rng.randrange(600))
        topic = rng.choice(TOPICS)
        discussions.append(
            Discussion(
                id=discussion_id,
                title=rng.choice(OPENERS).format(topic=topic),
                author_id=author.id,
                created_at=created,
                tag_ids=tuple(sorted(rng.sample(range(1, len(tags) + 1), rng.choice((1, 1, 2))))),
                is_sticky=discussion_id % 17 == 0,
                is_locked=discussion_id % 13 == 0,
                is_hidden=discussion_id % 23 == 0,
                is_private=discussion_id % 11 == 0,
            )
        )
        moment = created
        for number in range(1, rng.randint(1, 30) + 1):
            writer = author if number == 1 else rng.choice(people)
            moment += timedelta(minutes=rng.randrange(5, 600))
            body = " ".join(rng.sample(SENTENCES, rng.randint(1, 3)))
            if number == 1:
                body = f"Let's talk about the {topic}. {body}"
            posts.append(
                Post(
                    id=len(posts) + 1,
                    discussion_id=discussion_id,
                    number=number,
                    author_id=writer.id,
                    content=body,
                    created_at=moment,
                )
            )
    school = _school(random.Random(seed + 1), people, scale)
    charity = _charity(random.Random(seed + 2), people, scale)
    community = _community(random.Random(seed + 3), people, scale)
    newsroom = _newsroom(random.Random(seed + 4), people, scale)
    return World(
        people=people,
        tags=tags,
        discussions=tuple(discussions),
        posts=tuple(posts),
        **school,
        **charity,
        **community,
        **newsroom,
    )


COURSE_NAMES = (
    ("MATH101", "Mathematics 101", "Sciences"),
    ("BIO110", "Biology: Living Systems", "Sciences"),
    ("CHEM120", "Everyday Chemistry", "Sciences"),
    ("PHYS130", "Physics of Sport", "Sciences"),
    ("HIST201", "Local History", "Humanities"),
    ("LIT210", "Reading Novels", "Humanities"),
    ("ART220", "Drawing and Painting", "Humanities"),
    ("MUS230", "Choir and Ensemble", "Humanities"),
    ("CODE301", "Coding Club", "Community"),
    ("VOL310", "Volunteering Skills", "Community"),
    ("FIRST320", "First Aid", "Community"),
    ("GARD330", "Community Gardening", "Community"),
)
ASSIGNMENT_KINDS = ("Essay", "Worksheet", "Project", "Quiz", "Portfolio")


def _school(rng: random.Random, people: tuple[Person, ...], scale: int) -> dict[str, Any]:
    """Courses, enrolments, assignments, submissions, grades and completions (Moodle)."""
    people = tuple(p for p in people if p.has_account("moodle"))
    courses: list[Course] = []
    enrolments: list[Enrolment] = []
    assignments: list[Assignment] = []
    submissions: list[Submission] = []
    grades: list[AssignGrade] = []
    completions: list[Completion] = []
    for index in range(len(COURSE_NAMES) * scale):
        short, full, category = COURSE_NAMES[index % len(COURSE_NAMES)]
        if index >= len(COURSE_NAMES):
            short, full = f"{short}-{index // len(COURSE_NAMES)}", f"{full} ({index // 12 + 1})"
        start = EPOCH + timedelta(days=7 * (index % 6) - 120)
        ended = index % 3 == 0
        course = Course(
            id=index + 2,  # Moodle's course 1 is the site itself
            shortname=short,
            fullname=full,
            category=category,
            summary=f"<p>{full}: a course for everyone who wants to learn.</p>",
            start=start,
            end=start + timedelta(days=90 if ended else 300),
            visible=index % 12 != 11,
        )
        courses.append(course)
        members = rng.sample(people, 19)
        teachers, students = members[:2] if index % 2 else members[:1], members[2:]
        enrolments += [Enrolment(course.id, p.id, "editingteacher") for p in teachers]
        enrolments += [Enrolment(course.id, p.id, "student") for p in students]
        for number in range(2 + index % 2 + (index % 5 == 0)):
            due = start + timedelta(days=20 * (number + 1))
            assignment = Assignment(
                id=len(assignments) + 1,
                course_id=course.id,
                name=f"{ASSIGNMENT_KINDS[(index + number) % 5]} {number + 1}",
                intro=f"<p>Hand in your work for {full}, part {number + 1}.</p>",
                due=due,
                cutoff=due + timedelta(days=7) if number % 2 == 0 else None,
                max_grade=100 if number % 3 else 10,
            )
            assignments.append(assignment)
            for student in students:
                roll = rng.random()
                status = "submitted" if roll < 0.7 else "draft" if roll < 0.8 else "new"
                moment = due - timedelta(hours=rng.randrange(1, 200))
                submissions.append(Submission(assignment.id, student.id, status, moment))
                if status == "submitted" and rng.random() < 0.85:
                    grades.append(
                        AssignGrade(
                            assignment_id=assignment.id,
                            person_id=student.id,
                            grade=round(rng.uniform(0.4, 1.0) * assignment.max_grade, 1),
                            grader_id=rng.choice(teachers).id,
                            graded_at=due + timedelta(days=rng.randrange(1, 10)),
                        )
                    )
        for student in students:
            done = ended and rng.random() < 0.6
            completions.append(
                Completion(course.id, student.id, course.end if done and course.end else None)
            )
    return {
        "courses": tuple(courses),
        "enrolments": tuple(enrolments),
        "assignments": tuple(assignments),
        "submissions": tuple(submissions),
        "grades": tuple(grades),
        "completions": tuple(completions),
    }


def _people(rng: random.Random, count: int) -> tuple[Person, ...]:
    people = []
    for person_id in range(1, count + 1):
        first = FIRST_NAMES[(person_id - 1) % len(FIRST_NAMES)]
        last = LAST_NAMES[rng.randrange(len(LAST_NAMES))]
        username = f"{first.lower()}.{last.lower()}{'' if person_id <= 30 else person_id}"
        people.append(
            Person(
                id=person_id,
                username=username,
                email=f"{username}@example.org",
                first_name=first,
                last_name=last,
                joined_at=EPOCH - timedelta(days=400 - person_id * 3),
                is_admin=person_id == 1,
                # The last two people are only on the forum and in the CRM.
                systems=frozenset({"flarum", "civicrm"})
                if person_id > count - 2
                else Person.systems,
            )
        )
    return tuple(people)


GROUPS = (
    ("Newsletter", "Monthly newsletter readers", "Public Pages"),
    ("Volunteers", "People who give their time", "Public Pages"),
    ("Donors", "Everyone who has given", "User and User Admin Only"),
    ("Major_Donors", "Gifts above 1,000", "User and User Admin Only"),
    ("Board", "Trustees and officers", "User and User Admin Only"),
    ("Parents", "Parents of the youth club", "Public Pages"),
    ("Alumni", "Former students", "Public Pages"),
    ("Event_Attendees", "Came to at least one event", "Public Pages"),
    ("Youth_Club", "Members of the youth club", "Public Pages"),
    ("Press", "Journalists and media contacts", "User and User Admin Only"),
)
CITIES = (
    ("Leeds", "LS1"),
    ("Bristol", "BS1"),
    ("Glasgow", "G1"),
    ("Cardiff", "CF10"),
    ("York", "YO1"),
)
STREETS = ("High Street", "Station Road", "Church Lane", "Mill Road", "Park Avenue", "Queen Street")
ORGANISATIONS = ("Trust", "Foundation", "Ltd", "Co-op", "Association", "Partners")


class PostalDetails(TypedDict):
    street: str
    city: str
    postal_code: str
    country: str
    phone: str


def _charity(rng: random.Random, people: tuple[Person, ...], scale: int) -> dict[str, Any]:
    """CiviCRM's contacts (the people, donors, organisations, households), groups, memberships."""

    def address() -> PostalDetails:
        city, postcode = rng.choice(CITIES)
        return {
            "street": f"{rng.randint(1, 200)} {rng.choice(STREETS)}",
            "city": city,
            "postal_code": f"{postcode} {rng.randint(1, 9)}{rng.choice('ABDEFGHJ')}{rng.choice('LNPQRSTU')}",
            "country": "United Kingdom",
            "phone": f"+44 113 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        }

    def created() -> datetime:
        return EPOCH - timedelta(days=rng.randrange(30, 1500), minutes=rng.randrange(1440))

    contacts = [
        Contact(
            1,
            "Organization",
            organization_name="Legacygraph Community Trust",
            created_at=EPOCH - timedelta(days=2000),
        )
    ]
    for person in people:
        contacts.append(
            Contact(
                id=len(contacts) + 1,
                contact_type="Individual",
                first_name=person.first_name,
                last_name=person.last_name,
                email=person.email,
                created_at=created(),
                person_id=person.id,
                **address(),
            )
        )
    for _ in range(100 * scale):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        contacts.append(
            Contact(
                id=len(contacts) + 1,
                contact_type="Individual",
                first_name=first,
                last_name=last,
                email=f"{first.lower()}.{last.lower()}.{len(contacts) + 1}@donors.example.net",
                created_at=created(),
                **address(),
            )
        )
    for _ in range(100 * scale):
        name = f"{rng.choice(LAST_NAMES)} {rng.choice(TOPICS).title()} {rng.choice(ORGANISATIONS)}"
        contacts.append(
            Contact(
                id=len(contacts) + 1,
                contact_type="Organization",
                organization_name=name,
                email=f"info.{len(contacts) + 1}@org.example.net",
                created_at=created(),
                **address(),
            )
        )
    for _ in range(60 * scale):
        contacts.append(
            Contact(
                id=len(contacts) + 1,
                contact_type="Household",
                household_name=f"{rng.choice(LAST_NAMES)} Family",
                created_at=created(),
                **address(),
            )
        )
    groups = tuple(
        ContactGroup(i, name, name.replace("_", " "), text, visibility)
        for i, (name, text, visibility) in enumerate(GROUPS, start=1)
    )
    memberships = sorted(
        {
            (rng.randint(1, len(groups)), contact.id)
            for contact in contacts[1:]
            for _ in range(rng.choice((0, 1, 1, 2, 3)))
        }
    )
    return {
        "contacts": tuple(contacts),
        "contact_groups": groups,
        "memberships": tuple(memberships),
    }


SOCIAL_GROUPS = (
    "Parents' Corner", "Coding Club", "Choir", "Garden Volunteers", "Chess Club", "Book Circle",
    "Running Group", "Food Bank Helpers", "Youth Council", "Photography", "Board Games",
    "Language Exchange", "Repair Café", "Walking Group", "Science Fair Team", "Art Studio",
    "Film Night", "Mentors", "Alumni Network", "Event Crew",
)  # fmt: skip


def _community(rng: random.Random, people: tuple[Person, ...], scale: int) -> dict[str, Any]:
    """Elgg's groups (every fourth one closed), their members, and the activity river."""
    people = tuple(p for p in people if p.has_account("elgg"))
    groups = []
    members: set[tuple[int, int]] = set()
    for index in range(len(SOCIAL_GROUPS) * scale):
        name = SOCIAL_GROUPS[index % len(SOCIAL_GROUPS)]
        if index >= len(SOCIAL_GROUPS):
            name = f"{name} {index // len(SOCIAL_GROUPS) + 1}"
        owner = rng.choice(people)
        group = SocialGroup(
            guid=1000 + index,
            name=name,
            description=f"A place for everyone interested in {name.lower()}.",
            is_open=index % 4 != 3,
            owner_id=owner.id,
            created_at=EPOCH - timedelta(days=rng.randrange(30, 900)),
        )
        groups.append(group)
        members.add((group.guid, owner.id))
        members.update((group.guid, p.id) for p in rng.sample(people, rng.randint(3, 14)))
    activities: list[Activity] = []
    moment = EPOCH
    for guid, person_id in sorted(members):
        moment += timedelta(minutes=rng.randrange(30, 600))
        activities.append(Activity(len(activities) + 1, person_id, "join", guid, "", moment))
        if rng.random() < 0.4:
            moment += timedelta(minutes=rng.randrange(30, 600))
            title = f"{rng.choice(OPENERS).format(topic=rng.choice(TOPICS))}"
            activities.append(
                Activity(len(activities) + 1, person_id, "create", guid, title, moment)
            )
    return {
        "social_groups": tuple(groups),
        "social_members": tuple(sorted(members)),
        "activities": tuple(activities),
    }


SECTIONS = ("News", "Events", "Learning", "Volunteering", "Stories", "Notices")


def _newsroom(rng: random.Random, people: tuple[Person, ...], scale: int) -> dict[str, Any]:
    """Eqsash's sections and articles, written by the site's editors (people 1 to 6)."""
    sections = tuple(Section(i, name, _slugify(name)) for i, name in enumerate(SECTIONS, start=1))
    writers = people[:6]
    articles = []
    for article_id in range(1, 60 * scale + 1):
        topic = rng.choice(TOPICS)
        title = f"{rng.choice(OPENERS).format(topic=topic)} ({article_id})"
        body = " ".join(rng.sample(SENTENCES, 3))
        articles.append(
            Article(
                id=article_id,
                title=title,
                slug=_slugify(title),
                summary=f"All about the {topic}.",
                body=f"<p>{body}</p>",
                section_id=rng.randint(1, len(sections)),
                author_id=rng.choice(writers).id,
                published_at=EPOCH + timedelta(days=article_id, hours=rng.randrange(24)),
            )
        )
    return {"sections": sections, "articles": tuple(articles)}
