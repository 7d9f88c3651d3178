"""The CiviCRM simulator's state: contacts (with users' api keys), groups and memberships."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..database import Database
from ..world import DEMO_PASSWORD, World

__all__ = ["CivicrmStore", "api_key_of", "contact_id_of"]

SCHEMA = """
CREATE TABLE contacts (id INTEGER PRIMARY KEY, contact_type TEXT NOT NULL, first_name TEXT DEFAULT '',
    last_name TEXT DEFAULT '', organization_name TEXT DEFAULT '', household_name TEXT DEFAULT '',
    display_name TEXT DEFAULT '', email TEXT DEFAULT '', phone TEXT DEFAULT '', street TEXT DEFAULT '',
    city TEXT DEFAULT '', postal_code TEXT DEFAULT '', country TEXT DEFAULT '', created_date TEXT,
    modified_date TEXT, is_deleted INTEGER DEFAULT 0, api_key TEXT, username TEXT, password TEXT,
    staff INTEGER DEFAULT 0);
CREATE TABLE groups (id INTEGER PRIMARY KEY, name TEXT, title TEXT, description TEXT,
    is_active INTEGER DEFAULT 1, visibility TEXT, group_type TEXT);
CREATE TABLE group_contact (id INTEGER PRIMARY KEY, group_id INTEGER, contact_id INTEGER,
    status TEXT DEFAULT 'Added', UNIQUE (group_id, contact_id));
CREATE INDEX contacts_by_key ON contacts (api_key);
CREATE TABLE relationship_types (id INTEGER PRIMARY KEY, name_a_b TEXT, label_a_b TEXT,
    name_b_a TEXT, label_b_a TEXT, is_active INTEGER DEFAULT 1);
CREATE TABLE relationships (id INTEGER PRIMARY KEY, relationship_type_id INTEGER,
    contact_id_a INTEGER, contact_id_b INTEGER, is_active INTEGER DEFAULT 1, start_date TEXT,
    end_date TEXT);
CREATE TABLE custom_fields (id INTEGER PRIMARY KEY, name TEXT, label TEXT, data_type TEXT,
    html_type TEXT, option_group_id INTEGER, group_title TEXT, extends TEXT);
CREATE TABLE option_values (id INTEGER PRIMARY KEY, option_group_id INTEGER, value TEXT,
    label TEXT);
CREATE TABLE custom_values (contact_id INTEGER, field_id INTEGER, value TEXT,
    PRIMARY KEY (contact_id, field_id));
"""
RELATIONSHIP_TYPES = (
    (1, "Child of", "Parent of"), (2, "Spouse of", "Spouse of"), (3, "Partner of", "Partner of"),
    (4, "Sibling of", "Sibling of"), (5, "Employee of", "Employer of"),
    (6, "Volunteer for", "Volunteer is"), (7, "Head of Household for", "Head of Household is"),
    (8, "Household Member of", "Household Member is"), (9, "Case Coordinator is", "Case Coordinator"),
    (10, "Supervised by", "Supervisor"),
)  # fmt: skip
"""The relationship types CiviCRM 5.77 installs (recorded: issue27.jsonl 261)."""
CUSTOM_FIELDS = (
    (1, "T_shirt_size", "T-shirt size", "String", "Select", 102, "Supporter details", "Individual"),
    (2, "Volunteer_hours", "Volunteer hours", "Float", "Text", None, "Supporter details", "Individual"),
    (3, "First_donation", "First donation", "Date", "Select Date", None, "Supporter details", "Individual"),
    (4, "Gift_Aid", "Gift Aid", "Boolean", "Radio", None, "Supporter details", "Individual"),
    (5, "Dietary_needs", "Dietary needs", "String", "Text", None, "Supporter details", "Individual"),
    (6, "Visits", "Visits", "Int", "Text", None, "Supporter details", "Individual"),
    (7, "DBS_checked", "DBS checked", "Date", "Select Date", None, "Safeguarding", "Contact"),
)  # fmt: skip
"""The custom field sets of the real site's recording (issue27.jsonl 266): one on individuals,
one on every contact."""


def civi_time(moment: datetime) -> str:
    """CiviCRM's dates: local time without a zone (the simulated site runs on UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def api_key_of(username: str) -> str:
    """Each account holder's api_key (admins set these in CiviCRM's database)."""
    return hashlib.sha256(f"civicrm-api-key:{username}".encode()).hexdigest()[:32]


def contact_id_of(person_id: int) -> int:
    """Contact 1 is the site's own organisation, so person N is contact N + 1."""
    return person_id + 1


def display_name(contact_type: str, values: Mapping[str, Any]) -> str:
    if contact_type == "Individual":
        return f"{values.get('first_name', '')} {values.get('last_name', '')}".strip()
    return str(
        values.get("organization_name" if contact_type == "Organization" else "household_name", "")
    )


class CivicrmStore(Database):
    def __init__(self, world: World, path: str = ":memory:") -> None:
        super().__init__(path, SCHEMA, lambda db: self._seed(db, world))

    def _seed(self, db: sqlite3.Connection, world: World) -> None:
        people = {p.id: p for p in world.people}
        rows = []
        for c in world.contacts:
            person = people.get(c.person_id) if c.person_id else None
            # Staff (the first five people) may view and edit all contacts; the last person has
            # an account but no api_key, so cannot use the REST interface.
            has_key = person is not None and person.id != len(world.people)
            rows.append(
                (
                    c.id,
                    c.contact_type,
                    c.first_name,
                    c.last_name,
                    c.organization_name,
                    c.household_name,
                    display_name(c.contact_type, c.__dict__),
                    c.email,
                    c.phone,
                    c.street,
                    c.city,
                    c.postal_code,
                    c.country,
                    civi_time(c.created_at),
                    civi_time(c.created_at),
                    0,
                    api_key_of(person.username) if person and has_key else None,
                    person.username if person else None,
                    DEMO_PASSWORD if person else None,
                    int(person is not None and person.id <= 5),
                )
            )
        db.executemany(f"INSERT INTO contacts VALUES ({','.join('?' * 20)})", rows)
        db.executemany(
            "INSERT INTO groups VALUES (?,?,?,?,1,?,?)",
            [
                (g.id, g.name, g.title, g.description, g.visibility, "2")
                for g in world.contact_groups
            ],
        )
        db.executemany(
            "INSERT INTO group_contact (group_id, contact_id) VALUES (?,?)", list(world.memberships)
        )
        self._seed_relationships_and_custom_fields(db)

    def _seed_relationships_and_custom_fields(self, db: sqlite3.Connection) -> None:
        """The real site's types and fields, and a few of each on the first people's contacts
        (contact 2 is the first person's, contact 1 the site's organisation)."""
        db.executemany(
            "INSERT INTO relationship_types VALUES (?,?,?,?,?,1)",
            [(i, a, a, b, b) for i, a, b in RELATIONSHIP_TYPES],
        )
        db.executemany(
            "INSERT INTO relationships (relationship_type_id, contact_id_a, contact_id_b,"
            " is_active, start_date, end_date) VALUES (?,?,?,?,?,?)",
            [
                (5, 2, 1, 1, "2023-04-01", None),
                (2, 3, 4, 1, None, None),
                (1, 5, 6, 0, "2001-02-03", "2025-06-30"),
                (6, 7, 1, 1, "2024-01-15", None),
            ],
        )
        db.executemany("INSERT INTO custom_fields VALUES (?,?,?,?,?,?,?,?)", CUSTOM_FIELDS)
        db.executemany(
            "INSERT INTO option_values (option_group_id, value, label) VALUES (102,?,?)",
            [("S", "Small"), ("M", "Medium"), ("L", "Large")],
        )
        db.executemany(
            "INSERT INTO custom_values VALUES (?,?,?)",
            [
                (2, 1, "M"), (2, 2, "12.5"), (2, 3, "2023-05-06 00:00:00"), (2, 4, "1"),
                (2, 5, "Vegetarian"), (2, 6, "3"), (2, 7, "2024-02-01 00:00:00"),
                (3, 1, "L"), (3, 4, "0"), (3, 6, "0"), (4, 2, "4"),
            ],
        )  # fmt: skip

    def custom_values(self, contact_id: int) -> dict[int, str]:
        rows = self.all(
            "SELECT field_id, value FROM custom_values WHERE contact_id = ?", (contact_id,)
        )
        return {int(r["field_id"]): str(r["value"]) for r in rows}

    def set_custom_values(self, contact_id: int, values: Mapping[int, str]) -> None:
        """Custom values alone: the contact's modified_date stays (recorded on 5.77)."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO custom_values VALUES (?,?,?) ON CONFLICT (contact_id, field_id)"
                " DO UPDATE SET value = excluded.value",
                [(contact_id, field, value) for field, value in values.items()],
            )

    def create_contact(self, contact_type: str, values: Mapping[str, str]) -> int:
        now = civi_time(datetime.now(UTC))
        columns = {
            **values,
            "contact_type": contact_type,
            "display_name": display_name(contact_type, values),
            "created_date": now,
            "modified_date": now,
        }
        with self.transaction() as db:
            cursor = db.execute(
                f"INSERT INTO contacts ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})",
                list(columns.values()),
            )
            return int(cursor.lastrowid or 0)

    def update_contact(self, contact_id: int, values: Mapping[str, str]) -> None:
        with self.transaction() as db:
            row = db.execute("SELECT * FROM contacts WHERE id = ?", (contact_id,)).fetchone()
            merged = {**dict(row), **values}
            columns = {
                **values,
                "display_name": display_name(row["contact_type"], merged),
                "modified_date": civi_time(datetime.now(UTC)),
            }
            db.execute(
                f"UPDATE contacts SET {', '.join(f'{k} = ?' for k in columns)} WHERE id = ?",
                [*columns.values(), contact_id],
            )

    def create_group(
        self,
        title: str,
        description: str,
        *,
        visibility: str = "User and User Admin Only",
        group_type: str = "2",
    ) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO groups (name, title, description, visibility, group_type) VALUES (?,?,?,?,?)",
                (title.replace(" ", "_"), title, description, visibility, group_type),
            )
            return int(cursor.lastrowid or 0)

    def add_member(self, group_id: int, contact_id: int) -> int:
        """1 if the contact was added (or added back after a removal), 0 if already a member."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO group_contact (group_id, contact_id) VALUES (?,?)"
                " ON CONFLICT (group_id, contact_id) DO UPDATE SET status = 'Added'"
                " WHERE status != 'Added'",
                (group_id, contact_id),
            )
            return cursor.rowcount

    def remove_member(self, group_id: int, contact_id: int) -> int:
        """1 if the contact was a member (its row kept, status Removed), 0 if not."""
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE group_contact SET status = 'Removed'"
                " WHERE group_id = ? AND contact_id = ? AND status = 'Added'",
                (group_id, contact_id),
            )
            return cursor.rowcount

    def contact_state(self, contact_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """A contact's row and memberships, to put back when a write is rolled back."""
        row = self.one("SELECT * FROM contacts WHERE id = ? AND is_deleted = 0", (contact_id,))
        if row is None:
            return None
        members = self.all("SELECT * FROM group_contact WHERE contact_id = ?", (contact_id,))
        return dict(row), [dict(m) for m in members]

    def restore_contact(
        self, contact_id: int, state: tuple[dict[str, Any], list[dict[str, Any]]] | None
    ) -> None:
        """Puts a contact back as `state` holds it; None: as it was before it existed."""
        with self.transaction() as db:
            db.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))
            db.execute("DELETE FROM group_contact WHERE contact_id = ?", (contact_id,))
            if state is None:
                return
            row, members = state
            for table, records in (("contacts", [row]), ("group_contact", members)):
                for record in records:
                    db.execute(
                        f"INSERT INTO {table} ({','.join(record)}) VALUES"
                        f" ({','.join('?' * len(record))})",
                        list(record.values()),
                    )

    def delete_contact(self, contact_id: int, *, permanently: bool) -> None:
        """To the trash (`is_deleted`), or for good (`skip_undelete`)."""
        with self.transaction() as db:
            if permanently:
                db.execute("DELETE FROM group_contact WHERE contact_id = ?", (contact_id,))
                db.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))
            else:
                db.execute("UPDATE contacts SET is_deleted = 1 WHERE id = ?", (contact_id,))
