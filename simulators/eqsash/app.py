"""An Eqsash site's external API: one endpoint taking `key`, `module`, `method`, `data`, and the
user's `token` (or session id).

Modules declare their methods as Eqsash does: `type` external or internal, an optional `access`
list of roles, an optional `format` (`json`, `json_object`, or raw), an optional `method` the
call dispatches to. Only the seed documentation exists for Eqsash, so what it leaves open is
PROVISIONAL here and kept in one place (`PROVISIONAL`): the path `/api/`, `data` as a JSON
document, and errors as an HTTP status with `{"error": code, "message": text}`.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..counting import CountRequests, RequestCounter
from ..database import Database
from ..world import DEMO_PASSWORD, World, build_world

__all__ = ["API_KEY", "API_PATH", "PROVISIONAL", "SESSION_NAME", "create_app"]

API_KEY = "12345"
"""Eqsash's documented default site key (installs often keep it; it authorises the client)."""
API_PATH = "/api/"
SESSION_NAME = "EQSASH_SESSION"
TOKEN_LIFETIME_S = 14 * 24 * 3600
PROVISIONAL = {
    "path": API_PATH,
    "data": "a JSON document in the `data` field",
    "errors": "HTTP 401 invalid_key/invalid_token/login_required, 403 access_denied/internal_method, "
    "404 unknown_method, 400 bad_data; body {'error': code, 'message': text}",
}
SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT UNIQUE, name TEXT, email TEXT, role TEXT,
    password TEXT, registered INTEGER);
CREATE TABLE sections (id INTEGER PRIMARY KEY, name TEXT, slug TEXT);
CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, slug TEXT, summary TEXT, body TEXT,
    section_id INTEGER, author_id INTEGER, published INTEGER);
CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id INTEGER, expires INTEGER, kind TEXT);
"""


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Declared:
    """One entry of a module's `$api` map."""

    run: Callable[[sqlite3.Row | None, dict[str, Any]], Any]
    type: str = "internal"
    access: tuple[str, ...] = ()
    format: str | None = "json"


def create_app(
    world: World | None = None, *, database: str = ":memory:", api_key: str = API_KEY
) -> Starlette:
    world = world or build_world()

    def seed(db: sqlite3.Connection) -> None:
        db.executemany(
            "INSERT INTO users VALUES (?,?,?,?,?,?,?)",
            [
                (
                    p.id,
                    p.username,
                    p.display_name,
                    p.email,
                    "administrator" if p.is_admin else "editor" if p.id <= 6 else "member",
                    DEMO_PASSWORD,
                    int(p.joined_at.timestamp()),
                )
                for p in world.people
                if p.has_account("eqsash")
            ],
        )
        db.executemany(
            "INSERT INTO sections VALUES (?,?,?)", [(s.id, s.name, s.slug) for s in world.sections]
        )
        db.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?)",
            [
                (
                    a.id,
                    a.title,
                    a.slug,
                    a.summary,
                    a.body,
                    a.section_id,
                    a.author_id,
                    int(a.published_at.timestamp()),
                )
                for a in world.articles
            ],
        )

    store = Database(database, SCHEMA, seed)
    counter = RequestCounter()
    calls = RequestCounter()

    def rows(sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return store.all(sql, params)

    def ids_of(data: Mapping[str, Any], name: str = "ids") -> list[int]:
        value = data.get(name)
        if not isinstance(value, list) or not all(
            isinstance(i, int) or str(i).isdigit() for i in value
        ):
            raise ApiError(400, "bad_data", f"data.{name} must be a list of ids")
        return [int(i) for i in value]

    def one_id(data: Mapping[str, Any]) -> int:
        value = str(data.get("id", ""))
        if not value.isdigit():
            raise ApiError(400, "bad_data", "data.id must be an id")
        return int(value)

    def user_json(row: sqlite3.Row, viewer: sqlite3.Row | None) -> dict[str, Any]:
        found = {
            "id": row["id"],
            "login": row["login"],
            "name": row["name"],
            "roles": [row["role"]],
            "registered": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row["registered"])),
        }
        if viewer is not None and (viewer["id"] == row["id"] or viewer["role"] == "administrator"):
            found["email"] = row["email"]
        return found

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

    # Modules -------------------------------------------------------------------------------------

    def current_user(viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
        assert viewer is not None
        return user_json(viewer, viewer)

    def get_user(viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
        found = rows("SELECT * FROM users WHERE id = ?", (one_id(data),))
        if not found:
            raise ApiError(404, "not_found", "no such user")
        return user_json(found[0], viewer)

    def get_users(viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
        ids = ids_of(data)
        found = rows(
            f"SELECT * FROM users WHERE id IN ({','.join('?' * len(ids)) or 'NULL'}) ORDER BY id",
            tuple(ids),
        )
        return [user_json(r, viewer) for r in found]

    def get_by_email(viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
        emails = data.get("emails")
        if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
            raise ApiError(400, "bad_data", "data.emails must be a list of e-mail addresses")
        wanted = [e.lower() for e in emails]
        found = rows(
            f"SELECT * FROM users WHERE lower(email) IN ({','.join('?' * len(wanted)) or 'NULL'}) ORDER BY id",
            tuple(wanted),
        )
        return [user_json(r, viewer) | {"email": r["email"]} for r in found]

    def login(viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
        found = rows("SELECT * FROM users WHERE login = ?", (str(data.get("login", "")),))
        if not found or found[0]["password"] != data.get("password"):
            raise ApiError(401, "bad_credentials", "wrong login or password")
        token = secrets.token_hex(20)
        expires = int(time.time()) + TOKEN_LIFETIME_S
        with store.transaction() as db:
            db.execute(
                "INSERT INTO sessions VALUES (?,?,?,?)", (token, found[0]["id"], expires, "token")
            )
        return {"token": token, "user_id": found[0]["id"], "expires": expires}

    def user_id(viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
        assert viewer is not None
        return viewer["id"]

    def list_articles(viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
        limit, offset = int(data.get("limit", 10)), int(data.get("offset", 0))
        where, args = "1", list[Any]()
        if data.get("search"):
            where, args = "(title LIKE ? OR summary LIKE ?)", [f"%{data['search']}%"] * 2
        if data.get("section_id"):
            where += " AND section_id = ?"
            args.append(int(data["section_id"]))
        total = rows(f"SELECT COUNT(*) FROM articles WHERE {where}", tuple(args))[0][0]
        found = rows(
            f"SELECT * FROM articles WHERE {where} ORDER BY published DESC, id DESC LIMIT ? OFFSET ?",
            (*args, limit, offset),
        )
        return {"total": total, "items": [article_json(r) for r in found]}

    def get_article(viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
        found = rows("SELECT * FROM articles WHERE id = ?", (one_id(data),))
        if not found:
            raise ApiError(404, "not_found", "no such article")
        return article_json(found[0])

    def get_articles(viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
        ids = ids_of(data)
        found = rows(
            f"SELECT * FROM articles WHERE id IN ({','.join('?' * len(ids)) or 'NULL'}) ORDER BY id",
            tuple(ids),
        )
        return [article_json(r) for r in found]

    def list_sections(viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
        return {
            str(r["id"]): {"id": r["id"], "name": r["name"], "slug": r["slug"]}
            for r in rows("SELECT * FROM sections ORDER BY id")
        }

    def counters(viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
        return {
            name: rows(f"SELECT COUNT(*) FROM {name}")[0][0]
            for name in ("users", "articles", "sections")
        }

    modules: dict[str, dict[str, Declared]] = {
        "users": {
            "current": Declared(current_user, "external", ("administrator", "editor", "member")),
            "get": Declared(get_user, "external"),
            "get_many": Declared(get_users, "external"),
            "get_by_email": Declared(
                get_by_email, "external", ("administrator", "editor", "member")
            ),
            "login": Declared(login, "external"),
            "get_user_id": Declared(user_id, "internal", ("administrator",)),
            "get_user_id_plus": Declared(user_id, "external", ("administrator",)),
        },
        "articles": {
            "list": Declared(list_articles, "external"),
            "get": Declared(get_article, "external"),
            "get_many": Declared(get_articles, "external"),
        },
        # Eqsash's json_object format: the sections list arrives as an object keyed by id.
        "sections": {"list": Declared(list_sections, "external", format="json_object")},
        # Typed nowhere in the gateway: reached only through the generic call.
        "stats": {
            "get_counters": Declared(counters, "external", ("administrator", "editor")),
            "rebuild": Declared(counters, "internal", ("administrator",)),
        },
    }

    def viewer_of(fields: Mapping[str, str]) -> sqlite3.Row | None:
        credential = fields.get("token") or fields.get(SESSION_NAME)
        if not credential:
            return None
        found = rows(
            "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ? AND s.expires > ?",
            (credential, int(time.time())),
        )
        if not found:
            raise ApiError(401, "invalid_token", "the token or session is not valid")
        return found[0]

    async def api(request: Request) -> Response:
        fields = dict(request.query_params)
        fields.update(
            parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
        )
        try:
            if fields.get("key") != api_key:
                raise ApiError(401, "invalid_key", "the API key is not valid")
            module, name = fields.get("module", ""), fields.get("method", "")
            declared = modules.get(module, {}).get(name)
            if declared is None:
                raise ApiError(404, "unknown_method", f"{module}.{name} does not exist")
            if declared.type != "external":
                raise ApiError(403, "internal_method", f"{module}.{name} is internal to the site")
            viewer = viewer_of(fields)
            if declared.access:
                if viewer is None:
                    raise ApiError(401, "login_required", f"{module}.{name} needs a logged-in user")
                if viewer["role"] not in declared.access:
                    raise ApiError(
                        403, "access_denied", f"{module}.{name} is for {', '.join(declared.access)}"
                    )
            try:
                data = json.loads(fields.get("data") or "{}")
            except ValueError:
                raise ApiError(400, "bad_data", "data is not a JSON document") from None
            if not isinstance(data, dict):
                raise ApiError(400, "bad_data", "data must be a JSON object")
            calls.add(f"{module}.{name}")
            result = declared.run(viewer, data)
        except ApiError as error:
            return JSONResponse(
                {"error": error.code, "message": error.message}, status_code=error.status
            )
        if declared.format == "json_object" and isinstance(result, list):
            result = {str(i): v for i, v in enumerate(result)}
        if declared.format is None:
            return PlainTextResponse(str(result))
        return JSONResponse(result)

    app = Starlette(
        routes=[Route(API_PATH, api, methods=["GET", "POST"]), *counter.routes()],
        middleware=[Middleware(CountRequests, counter=counter)],
    )
    app.state.counter = counter
    app.state.calls = calls
    return app
