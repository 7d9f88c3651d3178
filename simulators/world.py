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

__all__ = [
    "DEMO_PASSWORD",
    "Discussion",
    "Person",
    "Post",
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
class World:
    people: tuple[Person, ...]
    tags: tuple[Tag, ...]
    discussions: tuple[Discussion, ...]
    posts: tuple[Post, ...] = field(repr=False)

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
    return World(people=people, tags=tags, discussions=tuple(discussions), posts=tuple(posts))


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
            )
        )
    return tuple(people)
