"""An Elgg site's web services: `/services/api/rest/{json|xml}/?method=...`.

Both layers of Elgg's authentication are checked as its API engine does: the client (an API key,
plainly or with an HMAC over time, nonce, key, the raw query string and the hash of the raw POST
body; ±25 h clock window; a signature seen before is a replay) and the user (`auth_token` from
`auth.gettoken`, valid for 60 minutes from creation). Errors are HTTP 200 envelopes
`{"status": -1, "message": ...}`. Refused signatures are recorded with their reason in
`app.state.refusals`, so tests can tell why.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import html
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote_plus

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..counting import CountRequests, RequestCounter
from ..database import Database
from ..world import DEMO_PASSWORD, World, build_world

__all__ = ["API_KEY", "SECRET", "create_app", "user_guid"]

API_KEY = "5f0c7a2e9b1d4c3a8e6f0b2d4c6a8e0f1a3c5e7b"
SECRET = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"
"""The simulated site's API key pair, as an admin would create it for the gateway."""
DRIFT_S = 90_000
TOKEN_LIFETIME_S = 3600
ALGORITHMS = {"sha": "sha1", "sha1": "sha1", "sha256": "sha256"}
"""Elgg 5's, for the signature and the POST hash: md5, sha384 and sha512 are refused."""
MISSING_KEY = "Missing API key"
"""Elgg 5's answer to every refused API authentication with its default settings (the API key
handler's message masks the HMAC handler's)."""
USER_REFUSED = "User could not be authenticated"
SCHEMA = """
CREATE TABLE users (guid INTEGER PRIMARY KEY, username TEXT UNIQUE, name TEXT, email TEXT,
    location TEXT, password TEXT, admin INTEGER);
CREATE TABLE groups (guid INTEGER PRIMARY KEY, name TEXT, description TEXT, open INTEGER,
    owner_guid INTEGER, time_created INTEGER);
CREATE TABLE members (group_guid INTEGER, user_guid INTEGER, PRIMARY KEY (group_guid, user_guid));
CREATE TABLE river (id INTEGER PRIMARY KEY, subject_guid INTEGER, action_type TEXT,
    group_guid INTEGER, object_title TEXT, posted INTEGER);
CREATE TABLE tokens (token TEXT PRIMARY KEY, user_guid INTEGER, expires INTEGER);
"""


def user_guid(person_id: int) -> int:
    """Elgg's guids are shared by every entity; the world's people are users 100 + id."""
    return 100 + person_id


class ApiError(Exception):
    def __init__(self, message: str, status: int = -1) -> None:
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Method:
    run: Callable[[sqlite3.Row | None, dict[str, str]], Any]
    description: str
    parameters: Mapping[str, tuple[str, bool]]
    """name → (type, required)."""
    call_method: str = "GET"
    require_user_auth: bool = False
    require_api_auth: bool = True


def create_app(
    world: World | None = None,
    *,
    database: str = ":memory:",
    latency_s: float = 0.0,
    legacy_hmac: bool = False,
    legacy_envelope: bool = False,
    clock: Callable[[], float] = time.time,
    methods: str = "legacygraph",
    method_keys: str = "verb",
) -> Starlette:
    """The simulator app. `legacy_hmac` accepts the older nonce-less hex signature instead;
    `legacy_envelope` wraps answers as `{"api": [...]}` like Elgg 1.5/1.6. `methods` picks the
    plugin the site runs: `legacygraph` (this project's own method set) or `rest_api`, the
    "Web Services REST API" plugin of the manlui/elgg_with_rest_api repository (lib/group.php,
    lib/user.php: its method names, parameters and answers). `method_keys` is how
    `system.api.list` keys its methods: `verb` (`GET:group.get`, Elgg 5) or `name` (Elgg 4)."""
    if method_keys not in ("verb", "name"):
        raise ValueError(f"method_keys must be verb or name, not {method_keys!r}")
    world = world or build_world()

    def seed(db: sqlite3.Connection) -> None:
        db.executemany(
            "INSERT INTO users VALUES (?,?,?,?,?,?,?)",
            [
                (
                    user_guid(p.id),
                    p.username,
                    p.display_name,
                    p.email,
                    ("Leeds", "Bristol", "York")[p.id % 3],
                    DEMO_PASSWORD,
                    int(p.is_admin),
                )
                for p in world.people
                if p.has_account("elgg")
            ],
        )
        db.executemany(
            "INSERT INTO groups VALUES (?,?,?,?,?,?)",
            [
                (
                    g.guid,
                    g.name,
                    g.description,
                    int(g.is_open),
                    user_guid(g.owner_id),
                    int(g.created_at.timestamp()),
                )
                for g in world.social_groups
            ],
        )
        db.executemany(
            "INSERT INTO members VALUES (?,?)", [(g, user_guid(p)) for g, p in world.social_members]
        )
        db.executemany(
            "INSERT INTO river VALUES (?,?,?,?,?,?)",
            [
                (
                    a.id,
                    user_guid(a.person_id),
                    a.action,
                    a.group_guid,
                    a.object_title,
                    int(a.created_at.timestamp()),
                )
                for a in world.activities
            ],
        )

    store = Database(database, SCHEMA, seed)
    seen_signatures: set[str] = set()
    replay_lock = threading.Lock()
    refusals: list[str] = []
    counter = RequestCounter()
    calls = RequestCounter()

    def rows(sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return store.all(sql, params)

    def one(sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        found = rows(sql, params)
        return found[0] if found else None

    # Entities ------------------------------------------------------------------------------------

    def user_json(row: sqlite3.Row, viewer: sqlite3.Row | None) -> dict[str, Any]:
        found = {
            "guid": row["guid"],
            "username": row["username"],
            "name": row["name"],
            "avatar_url": f"https://elgg.invalid/avatar/view/{row['username']}/medium",
            "location": row["location"],
        }
        if viewer is not None and (viewer["guid"] == row["guid"] or viewer["admin"]):
            found["email"] = row["email"]
        return found

    def group_json(row: sqlite3.Row) -> dict[str, Any]:
        count = one("SELECT COUNT(*) FROM members WHERE group_guid = ?", (row["guid"],))
        return {
            "guid": row["guid"],
            "name": row["name"],
            "description": row["description"],
            "membership": "open" if row["open"] else "closed",
            "members_count": count[0] if count else 0,
            "owner_guid": row["owner_guid"],
            "time_created": row["time_created"],
        }

    def is_member(group: int, viewer: sqlite3.Row | None) -> bool:
        return viewer is not None and (
            bool(viewer["admin"])
            or one(
                "SELECT 1 FROM members WHERE group_guid = ? AND user_guid = ?",
                (group, viewer["guid"]),
            )
            is not None
        )

    def group_row(guid: str) -> sqlite3.Row:
        row = one("SELECT * FROM groups WHERE guid = ?", (int(guid),))
        if row is None:
            raise ApiError(f"Group {guid} not found")
        return row

    def profile_of(viewer: sqlite3.Row | None, username: str) -> sqlite3.Row:
        row = one("SELECT * FROM users WHERE username = ?", (username,)) if username else viewer
        if row is None:
            raise ApiError(f"User {username} not found")
        return row

    # Methods -------------------------------------------------------------------------------------

    def api_list(viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
        return {
            (f"{m.call_method}:{name}" if method_keys == "verb" else name): {
                "description": m.description,
                "parameters": {k: {"type": t, "required": r} for k, (t, r) in m.parameters.items()}
                or [],
                "call_method": m.call_method,
                "require_api_auth": m.require_api_auth,
                "require_user_auth": m.require_user_auth,
                "assoc": False,
            }
            for name, m in sorted(methods_by_name.items())
        }

    def get_token(viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
        row = one("SELECT * FROM users WHERE username = ?", (p["username"],))
        if row is None or row["password"] != p["password"]:
            raise ApiError(USER_REFUSED)
        token = secrets.token_hex(16)
        with store.transaction() as db:
            db.execute(
                "INSERT INTO tokens VALUES (?,?,?)",
                (token, row["guid"], int(clock()) + TOKEN_LIFETIME_S),
            )
        return token

    def get_profile(viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
        return user_json(profile_of(viewer, p.get("username", "")), viewer)

    def by_email(viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
        found = rows(
            "SELECT * FROM users WHERE lower(email) = lower(?) ORDER BY guid", (p["email"],)
        )
        return [user_json(u, viewer) for u in found]

    def user_groups(viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
        """A page of a user's groups: 10 unless `limit` says, as Elgg's web services answer."""
        user = profile_of(viewer, p.get("username", ""))
        found = rows(
            "SELECT g.* FROM groups g JOIN members m ON m.group_guid = g.guid WHERE m.user_guid = ? ORDER BY g.guid",
            (user["guid"],),
        )
        # Someone else's closed groups stay hidden unless the viewer is in them too.
        shown = [group_json(g) for g in found if g["open"] or is_member(g["guid"], viewer)]
        offset = int(p.get("offset", 0))
        return shown[offset : offset + int(p.get("limit", 10))]

    def list_groups(viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
        found = rows(
            "SELECT * FROM groups ORDER BY guid LIMIT ? OFFSET ?",
            (int(p.get("limit", 10)), int(p.get("offset", 0))),
        )
        return [group_json(g) for g in found]

    def get_group(viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
        return group_json(group_row(p["guid"]))

    def get_members(viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
        group = group_row(p["guid"])
        if not group["open"] and not is_member(group["guid"], viewer):
            raise ApiError("The members of this group are visible to its members only.")
        found = rows(
            "SELECT u.* FROM users u JOIN members m ON m.user_guid = u.guid WHERE m.group_guid = ? ORDER BY u.guid LIMIT ? OFFSET ?",
            (group["guid"], int(p.get("limit", 10)), int(p.get("offset", 0))),
        )
        return [user_json(u, viewer) for u in found]

    def join(viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
        assert viewer is not None
        group = group_row(p["guid"])
        if not group["open"] and not viewer["admin"]:
            raise ApiError("This is a closed group. You need an invitation to join.")
        with store.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO members VALUES (?,?)", (group["guid"], viewer["guid"])
            )
            db.execute(
                "INSERT INTO river (subject_guid, action_type, group_guid, object_title, posted) VALUES (?,?,?,?,?)",
                (viewer["guid"], "join", group["guid"], "", int(clock())),
            )
        return {"success": True}

    def river(viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
        where, args = "1", []
        if p.get("group_guid"):
            where, args = "r.group_guid = ?", [int(p["group_guid"])]
        found = rows(
            f"SELECT r.*, u.username, u.name, g.open, g.name AS group_name FROM river r JOIN users u ON u.guid = r.subject_guid"
            f" LEFT JOIN groups g ON g.guid = r.group_guid WHERE {where} ORDER BY r.posted DESC, r.id DESC",
            tuple(args),
        )
        visible = [
            r
            for r in found
            if r["group_guid"] is None or r["open"] or is_member(r["group_guid"], viewer)
        ]
        window = visible[
            int(p.get("offset", 0)) : int(p.get("offset", 0)) + int(p.get("limit", 10))
        ]
        summaries = {
            "join": "{name} joined the group {group}",
            "create": "{name} started the discussion {title} in {group}",
        }
        return [
            {
                "id": r["id"],
                "action_type": r["action_type"],
                "subject_guid": r["subject_guid"],
                "subject_username": r["username"],
                "object_guid": r["group_guid"],
                "object_title": r["object_title"] or r["group_name"],
                "subject_name": r["name"],
                "summary": summaries.get(r["action_type"], "{name}").format(
                    name=r["name"], group=r["group_name"], title=r["object_title"]
                ),
                "posted": r["posted"],
            }
            for r in window
        ]

    own_methods: dict[str, Method] = {
        "system.api.list": Method(
            api_list, "A list of the methods this site exposes.", {}, require_api_auth=False
        ),
        "auth.gettoken": Method(
            get_token,
            "A user authentication token.",
            {"username": ("string", True), "password": ("string", True)},
            "POST",
            require_api_auth=False,
        ),
        "user.get_profile": Method(
            get_profile,
            "A user's profile.",
            {"username": ("string", False)},
            require_user_auth=True,
        ),
        "user.get_user_by_email": Method(
            by_email,
            "Users with this e-mail address.",
            {"email": ("string", True)},
            require_user_auth=True,
        ),
        "user.get_groups": Method(
            user_groups,
            "The groups a user belongs to.",
            {"username": ("string", False), "limit": ("int", False), "offset": ("int", False)},
            require_user_auth=True,
        ),
        "group.get_groups": Method(
            list_groups, "All groups.", {"limit": ("int", False), "offset": ("int", False)}
        ),
        "group.get": Method(get_group, "One group.", {"guid": ("int", True)}),
        "group.get_members": Method(
            get_members,
            "A group's members.",
            {"guid": ("int", True), "limit": ("int", False), "offset": ("int", False)},
        ),
        "group.join": Method(
            join, "Join a group.", {"guid": ("int", True)}, "POST", require_user_auth=True
        ),
        "site.river": Method(
            river,
            "The activity river.",
            {"limit": ("int", False), "offset": ("int", False), "group_guid": ("int", False)},
        ),
    }

    # The elgg_with_rest_api plugin ---------------------------------------------------------------

    def caller_named(viewer: sqlite3.Row | None, p: dict[str, str]) -> sqlite3.Row:
        """Its group methods insist on a `username`, then act as the logged-in user."""
        if not p.get("username"):
            raise ApiError("registration:usernamenotvalid")
        named = one("SELECT * FROM users WHERE username = ?", (p["username"],))
        if named is None:
            raise ApiError("registration:usernamenotvalid")
        assert viewer is not None
        return named

    def time_ago(seconds: int) -> str:
        days = max(int((clock() - seconds) // 86400), 0)
        return f"{days} days ago" if days else "just now"

    def plugin_profile(viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
        user = profile_of(viewer, p.get("username", ""))
        fields = {"location": {"label": "Location", "type": "location", "value": user["location"]}}
        return {
            "core": {"name": user["name"], "username": user["username"]},
            "profile_fields": fields if user["location"] else [],
            "avatar_url": f"https://elgg.invalid/avatar/view/{user['username']}/medium",
        }

    def plugin_by_email(viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
        found = rows(
            "SELECT * FROM users WHERE lower(email) = lower(?) ORDER BY guid", (p["email"],)
        )
        if not found:
            raise ApiError("registration:emailnotvalid")
        return {str(i): u["username"] for i, u in enumerate(found)}

    def plugin_group(row: sqlite3.Row, user: sqlite3.Row) -> dict[str, Any]:
        count = one("SELECT COUNT(*) FROM members WHERE group_guid = ?", (row["guid"],))
        owner = one("SELECT * FROM users WHERE guid = ?", (row["owner_guid"],))
        return {
            "guid": row["guid"],
            "title": row["name"],
            "time_create": time_ago(row["time_created"]),
            "description": row["description"] or "",
            "access_id": 2,
            "members": count[0] if count else 0,
            "is_member": is_member(row["guid"], user),
            "permission_public": bool(row["open"]),
            "content_access_mode": "unrestricted",
            "icon": f"https://elgg.invalid/groups/icon/{row['guid']}/medium",
            "tags": "",
            "owner": {
                "guid": row["owner_guid"],
                "name": owner["name"] if owner else "",
                "username": owner["username"] if owner else "",
                "avatar_url": "",
            },
        }

    def plugin_groups(viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
        user = caller_named(viewer, p)
        assert viewer is not None
        limit, offset = int(p.get("limit", 20)), int(p.get("offset", 0))
        if p.get("context") == "member":  # the logged-in user's, whatever `username` says
            found = rows(
                "SELECT g.* FROM groups g JOIN members m ON m.group_guid = g.guid"
                " WHERE m.user_guid = ? ORDER BY g.name LIMIT ? OFFSET ?",
                (viewer["guid"], limit, offset),
            )
        elif p.get("context") == "mine":
            found = rows(
                "SELECT * FROM groups WHERE owner_guid = ? ORDER BY guid DESC LIMIT ? OFFSET ?",
                (viewer["guid"], limit, offset),
            )
        else:
            found = rows(
                "SELECT * FROM groups ORDER BY guid DESC LIMIT ? OFFSET ?", (limit, offset)
            )
        if not found:
            raise ApiError("No groups")  # elgg_echo('groups:none'), thrown
        return [plugin_group(g, user) for g in found]

    def plugin_activity(viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
        caller_named(viewer, p)
        group = one("SELECT * FROM groups WHERE guid = ?", (int(p["guid"]),))
        if group is None:
            return {"message": "grups:error:group_not_found"}
        limit, offset = int(p.get("limit", 20)), int(p.get("offset", 0))
        found = rows(
            "SELECT r.*, u.username, u.name FROM river r JOIN users u ON u.guid = r.subject_guid"
            " WHERE r.group_guid = ? ORDER BY r.posted DESC, r.id DESC LIMIT ? OFFSET ?",
            (group["guid"], limit, offset),
        )
        said = {"join": "joined the group {group}", "create": "started {title} in {group}"}
        return [
            {
                "id": r["id"],
                "time": time_ago(r["posted"]),
                "type": "group" if r["action_type"] == "join" else "object",
                "sub_type": "" if r["action_type"] == "join" else "discussion",
                "action_type": r["action_type"],
                "object_guid": r["group_guid"],
                "subject_guid": r["subject_guid"],
                "view": "river/relationship/member/create"
                if r["action_type"] == "join"
                else "river/object/discussion/create",
                "string": group["description"] or "",
                "txt": said.get(r["action_type"], "{title}").format(
                    group=group["name"], title=r["object_title"]
                ),
                "name": r["name"],
                "username": r["username"],
                "avatar_url": "",
                "icon_url": "",
                "img_url": "",
                "like_count": 0,
                "like": False,
                "comment_count": 0,
                "batch_images": [],
            }
            for r in found
        ]

    def plugin_join(viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
        assert viewer is not None
        group = group_row(p["guid"])
        if not group["open"] and not viewer["admin"]:
            return {"member": "cantjoin", "message": "joinrequestmade"}
        join(viewer, p)
        return {"member": "joined", "message": "joined"}

    plugin_methods: dict[str, Method] = {
        "system.api.list": own_methods["system.api.list"],
        "auth.gettoken": own_methods["auth.gettoken"],
        "user.get_profile": Method(
            plugin_profile,
            "Get user profile information",
            {"username": ("string", False)},
            require_user_auth=True,
        ),
        "user.get_user_by_email": Method(
            plugin_by_email,
            "Get Username by email",
            {"email": ("string", True)},
            require_user_auth=True,
        ),
        "group.get_list": Method(
            plugin_groups,
            "GET all the groups",
            {
                "context": ("string", True),
                "limit": ("int", False),
                "offset": ("int", False),
                "username": ("string", False),
                "from_guid": ("int", False),
            },
            require_user_auth=True,
        ),
        "group.get_activity": Method(
            plugin_activity,
            "GET group activity",
            {
                "guid": ("string", True),
                "limit": ("int", False),
                "offset": ("int", False),
                "username": ("string", False),
                "from_guid": ("int", False),
            },
            require_user_auth=True,
        ),
        "group.join_group": Method(
            plugin_join, "Join group", {"guid": ("string", True)}, "POST", require_user_auth=True
        ),
    }
    if methods not in ("legacygraph", "rest_api"):
        raise ValueError(f"methods must be legacygraph or rest_api, not {methods!r}")
    methods_by_name = own_methods if methods == "legacygraph" else plugin_methods

    # Authentication ------------------------------------------------------------------------------

    def refuse(reason: str) -> ApiError:
        refusals.append(reason)
        return ApiError(MISSING_KEY)

    def check_client(
        request: Request, query: bytes, body: bytes, inputs: Mapping[str, str]
    ) -> None:
        key = request.headers.get("x-elgg-apikey")
        if key is None:
            if inputs.get("api_key") is None:
                raise refuse("missing api_key")
            if inputs["api_key"] != API_KEY:
                refusals.append("unknown api_key")
                raise ApiError("Bad API key")
            return
        algo = ALGORITHMS.get(request.headers.get("x-elgg-hmac-algo", "").lower())
        if algo is None:
            raise refuse("unsupported algorithm")
        if key != API_KEY:
            raise refuse("unknown api key")
        sent_time = request.headers.get("x-elgg-time", "").strip()
        nonce = request.headers.get("x-elgg-nonce")
        if nonce is None and not legacy_hmac:
            raise refuse("missing X-Elgg-nonce header")
        try:
            drift = abs(float(sent_time) - clock())
        except ValueError:
            raise refuse("unreadable X-Elgg-time") from None
        if drift > DRIFT_S:
            raise refuse("time outside the allowed window")
        message = (
            sent_time.encode()
            + (nonce or "").strip().encode()
            + key.strip().encode()
            + query.strip()
        )
        if request.method == "POST":
            posthash_algo = ALGORITHMS.get(request.headers.get("x-elgg-posthash-algo", "").lower())
            if posthash_algo is None:
                raise refuse("unsupported posthash algorithm")
            posthash = hashlib.new(posthash_algo, body).hexdigest()
            if request.headers.get("x-elgg-posthash", "").strip() != posthash:
                raise refuse("POST data hash does not match")
            message += posthash.encode()
        digest = hmac.new(SECRET.encode(), message, algo).digest()
        expected = digest.hex() if nonce is None else quote_plus(base64.b64encode(digest).decode())
        sent = request.headers.get("x-elgg-hmac", "")
        if not hmac.compare_digest(sent, expected):
            raise refuse("HMAC mismatch")
        with replay_lock:
            if sent in seen_signatures:
                raise refuse("replayed signature")
            seen_signatures.add(sent)

    def user_of(inputs: Mapping[str, str]) -> sqlite3.Row | None:
        token = inputs.get("auth_token")
        if not token:
            return None
        found = one(
            "SELECT u.* FROM tokens t JOIN users u ON u.guid = t.user_guid WHERE t.token = ? AND t.expires > ?",
            (token, int(clock())),
        )
        return found

    async def rest(request: Request) -> Response:
        if latency_s:
            await asyncio.sleep(latency_s)
        fmt = request.path_params.get("format", "xml") or "xml"
        query = request.scope.get("query_string", b"")
        body = await request.body()
        inputs = dict(parse_qsl(query.decode(), keep_blank_values=True))
        inputs.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        name = inputs.get("method", "")
        try:
            method = methods_by_name.get(name)
            if method is None or request.method != method.call_method:
                raise ApiError(f"Method call '{name}' has not been implemented.")
            if method.require_api_auth:
                check_client(request, query, body, inputs)
            viewer = user_of(inputs)
            if method.require_user_auth and viewer is None:
                raise ApiError(USER_REFUSED, -20)
            params = {
                k: v for k, v in inputs.items() if k not in ("method", "api_key", "auth_token")
            }
            for param, (kind, required) in method.parameters.items():
                if required and param not in params:
                    raise ApiError(f"Missing parameter {param} in method {name}")
                if kind == "int" and param in params and not params[param].lstrip("-").isdigit():
                    raise ApiError(f"{param} must be an integer")
            calls.add(name)
            envelope: dict[str, Any] = {"status": 0, "result": method.run(viewer, params)}
        except ApiError as error:
            envelope = {"status": error.status, "message": error.message}
        if fmt == "xml":
            return Response(
                f'<?xml version="1.0" encoding="UTF-8"?>\n<elgg>{to_xml(envelope)}</elgg>\n',
                media_type="text/xml",
            )
        return JSONResponse({"api": [envelope]} if legacy_envelope else envelope)

    app = Starlette(
        routes=[
            Route("/services/api/rest/{format}/", rest, methods=["GET", "POST"]),
            *counter.routes(),
        ],
        middleware=[Middleware(CountRequests, counter=counter)],
    )
    app.state.counter = counter
    app.state.calls = calls
    app.state.refusals = refusals
    app.state.store = store
    return app


def to_xml(value: Any) -> str:
    """Elgg's XML view: fields as elements, list entries as `<array_item>` (unverified)."""
    if isinstance(value, dict):
        return "".join(f"<{k}>{to_xml(v)}</{k}>" for k, v in value.items())
    if isinstance(value, list):
        return "".join(f"<array_item>{to_xml(v)}</array_item>" for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return html.escape(str(value))
