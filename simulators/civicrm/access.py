"""Who may see what: users without "view all contacts" see themselves and the contacts in the
groups they may see (theirs and the public ones)."""

from __future__ import annotations

from typing import Any

from .site import Site, User

__all__ = ["visible_contacts_sql", "visible_groups"]


def visible_groups(site: Site, user: User) -> set[int]:
    if user.view_all:
        return {r["id"] for r in site.store.all("SELECT id FROM groups")}
    mine = {
        r["group_id"]
        for r in site.store.all(
            "SELECT group_id FROM group_contact WHERE contact_id = ?", (user.contact_id,)
        )
    }
    public = {
        r["id"] for r in site.store.all("SELECT id FROM groups WHERE visibility = 'Public Pages'")
    }
    return mine | public


def visible_contacts_sql(site: Site, user: User) -> tuple[str, list[Any]]:
    if user.view_all:
        return "1", []
    groups = sorted(visible_groups(site, user))
    return (
        f"(c.id = ? OR c.id IN (SELECT contact_id FROM group_contact WHERE group_id IN ({','.join('?' * len(groups)) or 'NULL'})))",
        [user.contact_id, *groups],
    )
