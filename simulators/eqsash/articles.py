"""The `articles` module: a page of articles (searched, by section), one, or several by id."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from .site import ApiError, Site, ids_of, one_id

__all__ = ["article_json", "get", "get_many", "list_page"]


def article_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "slug": row["slug"],
        "summary": row["summary"],
        "body": row["body"],
        "section_id": row["section_id"],
        "author_id": row["author_id"],
        "published": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row["published"])),
    }


def list_page(site: Site, viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
    limit, offset = int(data.get("limit", 10)), int(data.get("offset", 0))
    where, args = "1", list[Any]()
    if data.get("search"):
        where, args = "(title LIKE ? OR summary LIKE ?)", [f"%{data['search']}%"] * 2
    if data.get("section_id"):
        where += " AND section_id = ?"
        args.append(int(data["section_id"]))
    total = site.rows(f"SELECT COUNT(*) FROM articles WHERE {where}", tuple(args))[0][0]
    found = site.rows(
        f"SELECT * FROM articles WHERE {where} ORDER BY published DESC, id DESC LIMIT ? OFFSET ?",
        (*args, limit, offset),
    )
    return {"total": total, "items": [article_json(r) for r in found]}


def get(site: Site, viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
    found = site.rows("SELECT * FROM articles WHERE id = ?", (one_id(data),))
    if not found:
        raise ApiError(404, "not_found", "no such article")
    return article_json(found[0])


def get_many(site: Site, viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
    ids = ids_of(data)
    found = site.rows(
        f"SELECT * FROM articles WHERE id IN ({','.join('?' * len(ids)) or 'NULL'}) ORDER BY id",
        tuple(ids),
    )
    return [article_json(r) for r in found]
