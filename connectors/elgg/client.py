"""The Elgg web services client: typed async methods over one `Upstream`."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from xml.etree.ElementTree import Element, ParseError

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ..answers import typed
from ..errors import (
    BadRequest,
    Forbidden,
    NotFound,
    ProtocolError,
    Unauthenticated,
    Unavailable,
    UpstreamError,
)
from ..http import Upstream
from ..memory import LocalMemory, Recollection
from . import answers as a
from .models import Activity, ElggGroup, ElggUser, MethodInfo, Token
from .profiles import MethodProfile, Role, choose

__all__ = ["GROUPS_AT_MOST", "TOKEN_LIFETIME", "Elgg", "error_from", "methods_listed", "read"]

SOURCE = "elgg"
T = TypeVar("T")
ENDPOINT = "/services/api/rest/json/"
PAGE = 50
"""How many items the gateway asks Elgg for at a time: always said, never the site's default."""
GROUPS_AT_MOST = 500
"""Elgg lists groups by page; the gateway reads up to this many to merge, search or find one."""
TOKEN_LIFETIME = timedelta(minutes=60)
"""Elgg's user tokens last 60 minutes from creation, used or not."""
METHODS_MEMORY = "methods.v2"
VERBS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def methods_listed(listed: Mapping[str, Any]) -> dict[str, MethodInfo]:
    """`system.api.list`'s methods by name. Elgg 5 keys them `VERB:name` (`POST:auth.gettoken`),
    and one name may be there for GET and for POST; Elgg 4 and older key them by name."""
    found: dict[str, MethodInfo] = {}
    for key, raw in listed.items():
        info = raw if isinstance(raw, Mapping) else {}
        verb, colon, name = str(key).partition(":")
        if not (colon and verb.upper() in VERBS):
            name, verb = str(key), str(info.get("call_method") or "GET")
        verb = str(info.get("call_method") or verb).upper()
        parameters = info.get("parameters")
        required = tuple(
            p
            for p, spec in (parameters.items() if isinstance(parameters, Mapping) else ())
            if isinstance(spec, Mapping) and _truthy(spec.get("required"))
        )
        method = MethodInfo(
            name=name,
            call_method=verb,
            require_user_auth=_truthy(info.get("require_user_auth")),
            require_api_auth=_truthy(info.get("require_api_auth")),
            required=required,
        )
        if name in found and verb not in found[name].verbs:
            method = replace(method, call_method=f"{found[name].call_method},{verb}")
        found[name] = method
    return found


def _truthy(value: Any) -> bool:
    """Elgg's JSON view sends booleans, its XML view `true`/`1`."""
    return str(value).lower() in ("true", "1")


def read(response: httpx.Response) -> Any:
    """The `result` of an Elgg answer (`{status, result}`, the older `{"api": [...]}` wrapper, or
    the XML view); a non-zero status raises the matching error."""
    if response.status_code >= 500:
        raise Unavailable(SOURCE, f"Elgg failed (HTTP {response.status_code})")
    text = response.text.lstrip()
    if text.startswith("<?xml") or text.startswith("<elgg"):
        envelope = _xml_envelope(text)
    elif text.startswith("<"):
        raise ProtocolError(
            SOURCE, f"Elgg answered HTML (HTTP {response.status_code}), not its API"
        )
    else:
        try:
            envelope = json.loads(text)
        except ValueError as exc:
            raise ProtocolError(SOURCE, "Elgg answered invalid JSON") from exc
    if isinstance(envelope, dict) and isinstance(envelope.get("api"), list) and envelope["api"]:
        envelope = envelope["api"][0]
    if not isinstance(envelope, dict) or "status" not in envelope:
        raise ProtocolError(SOURCE, "Elgg answered JSON without its status envelope")
    status = int(envelope["status"])
    if status != 0:
        raise error_from(status, str(envelope.get("message") or "Elgg reported an error"))
    return envelope.get("result")


def _xml_envelope(text: str) -> dict[str, Any]:
    try:
        root = fromstring(text, forbid_dtd=True)
    except (DefusedXmlException, ParseError) as exc:
        raise ProtocolError(SOURCE, f"Elgg answered unusable XML ({type(exc).__name__})") from exc
    value = _xml_value(root)
    if not isinstance(value, dict):
        raise ProtocolError(SOURCE, "Elgg answered XML without its status envelope")
    return value


def _xml_value(element: Element) -> Any:
    children = list(element)
    if not children:
        return element.text or ""
    if all(child.tag == "array_item" for child in children):
        return [_xml_value(child) for child in children]
    return {child.tag: _xml_value(child) for child in children}


API_REFUSALS = (
    "api authentication",
    "algorithm",
    "api key",
    "hmac",
    "x-elgg",
    "packet signature",
    "epoch fail",
    "posthash",
)
"""What Elgg says when the gateway's key or signature is refused (with its default settings,
every HMAC failure is reported as "Missing API key")."""
CLOCK_WINDOW_S = 90_000
"""Elgg refuses a signature whose X-Elgg-time is further than this from its clock (25 h)."""


def error_from(status: int, message: str) -> UpstreamError:
    lower = message.lower()
    if status in (-30, -31, -32) or any(s in lower for s in API_REFUSALS):
        # Its first sentence only: "HMAC is invalid. <sent> != [calc]<expected>" goes on with
        # signatures.
        said = message.split(". ")[0].rstrip(".")
        return Unauthenticated(
            SOURCE,
            f"Elgg refused the gateway's API key or signature: {said}",
            upstream_code=str(status),
        )
    if (
        status == -20
        or "user authentication" in lower
        or "token" in lower
        or "authentication failed" in lower
        or "could not be authenticated" in lower  # Elgg 5: a wrong password, a bad token
    ):
        return Unauthenticated(SOURCE, message, upstream_code=str(status))
    if any(
        s in lower
        for s in (
            "has not been implemented",
            "must be called using",
            "missing parameter",
            "must be an integer",
        )
    ):
        return BadRequest(SOURCE, message, upstream_code=str(status))
    if "not found" in lower:
        return NotFound(SOURCE, message, upstream_code=str(status))
    if any(
        s in lower
        for s in ("members only", "closed group", "invitation", "permission", "not allowed")
    ):
        return Forbidden(SOURCE, message, upstream_code=str(status))
    return ProtocolError(SOURCE, f"Elgg answered: {message}", upstream_code=str(status))


class Elgg:
    """An Elgg site, as the application whose key signs `upstream.auth`, and as its user.

    `memory` is shared by every request of the gateway (and, in Redis, by its replicas): what
    `system.api.list` said the site exposes, so that a method the site lacks is a clear error,
    not a failed call. Elgg has no
    batch calls, so identical reads made through one instance (one gateway request) share one
    upstream call.
    """

    def __init__(
        self,
        upstream: Upstream,
        *,
        memory: Recollection | None = None,
        profile: str = "auto",
        overrides: Sequence[str] = (),
    ) -> None:
        self.upstream = upstream
        self._memory = memory if memory is not None else LocalMemory(size=1, ttl_s=600)
        self._methods: dict[str, MethodInfo] = {}
        self._reads: dict[tuple[str, tuple[tuple[str, str], ...]], asyncio.Future[Any]] = {}
        self._profile_name = profile
        self._overrides = tuple(overrides)
        self._chosen: MethodProfile | None = None

    async def method_profile(self) -> MethodProfile:
        """The site's method profile: the configured one, or the one its methods match."""
        if self._chosen is None:
            self._chosen = choose(self._profile_name, await self.exposed(), self._overrides)
        return self._chosen

    async def _role(self, role: Role, given: Mapping[str, Any]) -> tuple[MethodProfile, Any]:
        """Calls the site's method for `role`; a role the site has no method for is a clear
        `BadRequest` naming it."""
        profile = await self.method_profile()
        method = profile.method(role)
        if method is None:
            raise BadRequest(
                SOURCE, MethodProfile.missing(profile.name, role), upstream_code="no-method"
            )
        arguments = method.arguments(given)
        if role in profile.caller_username and not arguments.get("username"):
            arguments["username"] = (await self.profile()).username
        return profile, await self.call(method.name, arguments)

    async def call(
        self, method: str, params: Mapping[str, Any] | None = None, *, post: bool = False
    ) -> Any:
        if method != "system.api.list":
            exposed = await self.exposed()
            if method not in exposed:
                raise BadRequest(
                    SOURCE, f"this Elgg site does not expose {method}", upstream_code="not-exposed"
                )
            verbs = exposed[method].verbs
            # Elgg 5 may expose one name for GET and for POST: a write asks for POST.
            post = "POST" in verbs if post else verbs == ("POST",)
        fields = {k: str(v) for k, v in (params or {}).items() if v is not None}
        if post:
            response = await self.upstream.request(
                "POST", ENDPOINT, params={"method": method}, form=fields, call=method
            )
            return read(response)
        key = (method, tuple(sorted(fields.items())))
        if key not in self._reads:
            self._reads[key] = asyncio.ensure_future(self._get(method, fields))
        return await asyncio.shield(self._reads[key])

    async def _get(self, method: str, fields: Mapping[str, str]) -> Any:
        return await self.upstream.request(
            "GET", ENDPOINT, params={"method": method, **fields}, call=method, decode=read
        )

    async def exposed(self) -> Mapping[str, MethodInfo]:
        """The methods the site exposes (`system.api.list`, asked once and remembered)."""
        if self._methods:
            return self._methods
        remembered = await self._memory.recall(METHODS_MEMORY)
        if not isinstance(remembered, dict):
            listed = await self.call("system.api.list")
            if not isinstance(listed, dict):
                raise ProtocolError(
                    SOURCE, "Elgg's system.api.list answer is not a list of methods"
                )
            remembered = {
                name: [
                    info.call_method,
                    info.require_user_auth,
                    info.require_api_auth,
                    list(info.required),
                ]
                for name, info in methods_listed(listed).items()
            }
            await self._memory.remember(METHODS_MEMORY, remembered)
        self._methods = {
            name: MethodInfo(
                name=name,
                call_method=str(call_method),
                require_user_auth=bool(user_auth),
                require_api_auth=bool(api_auth),
                required=tuple(required),
            )
            for name, (call_method, user_auth, api_auth, required) in remembered.items()
        }
        return self._methods

    async def check_signature(self, *, clock: Callable[[], float] = time.time) -> str | None:
        """Makes one signed call of a method that requires API authentication and no user, and
        names it; None where the site exposes no such method. A refusal names what is likely
        wrong, since Elgg itself says "Missing API key" for every kind of HMAC failure."""
        exposed = await self.exposed()
        candidates = sorted(
            m.name
            for m in exposed.values()
            if m.require_api_auth and not m.require_user_auth and "GET" in m.verbs
            if not m.required
        )
        if not candidates:
            return None
        method = candidates[0]
        response = await self.upstream.request(
            "GET", ENDPOINT, params={"method": method}, call=method
        )
        try:
            read(response)
        except Unauthenticated as error:
            raise Unauthenticated(
                SOURCE,
                signature_refused(method, response, clock()),
                upstream_code=error.upstream_code,
            ) from error
        return method

    async def get_token(self, username: str, password: str) -> Token:
        token = await self.call("auth.gettoken", {"username": username, "password": password})
        if isinstance(token, dict):  # the rest_api plugin's: {"auth_token", "api_key", ...}
            token = token.get("auth_token")
        if not isinstance(token, str) or not token:
            raise ProtocolError(SOURCE, "Elgg's auth.gettoken answer has no token")
        return Token(token=token, expires_at=datetime.now(UTC) + TOKEN_LIFETIME)

    async def profile(self, username: str | None = None) -> ElggUser:
        """A user's profile; the caller's own without a username."""
        profile, found = await self._role("profile", {"username": username})
        return _rest_user(found) if profile.shapes == "rest_api" else _user(found)

    async def users_by_email(self, email: str) -> list[ElggUser]:
        """Users with this e-mail (one address a call). The rest_api plugin answers usernames
        (and an error where there is none): each is read by its profile."""
        try:
            profile, found = await self._role("user_by_email", {"email": email})
        except BadRequest as error:
            if "emailnotvalid" in error.message:
                return []
            raise
        if profile.shapes != "rest_api":
            # A method that searched by e-mail vouches for the address, also where the site
            # hides it from the caller (other users' e-mails, on the legacygraph plugin).
            return [replace(u, email=u.email or email) for u in map(_user, _list(found))]
        names = list(found.values()) if isinstance(found, dict) else _list(found)
        users = await asyncio.gather(*(self.profile(str(n)) for n in names))
        return [replace(u, email=email) for u in users]

    async def user_groups(self, username: str | None = None) -> list[ElggGroup]:
        """A user's groups. The rest_api plugin's `group.get_list` with `context=member` lists
        the caller's own whatever `username` says: someone else's are refused, not invented."""
        if username and (await self.method_profile()).shapes == "rest_api":
            caller = (await self.profile()).username
            if username.lower() != caller.lower():
                raise BadRequest(
                    SOURCE,
                    "this Elgg site's plugin lists only the caller's own groups",
                    upstream_code="no-method",
                )
        return await self._groups_of("user_groups", {"username": username})

    async def groups(self, *, limit: int = 10, offset: int = 0) -> list[ElggGroup]:
        """`limit` of the site's groups from `offset`."""
        return await self._groups_of("groups", {}, at_most=limit, start=offset)

    async def _groups_of(
        self, role: Role, given: Mapping[str, Any], *, at_most: int = GROUPS_AT_MOST, start: int = 0
    ) -> list[ElggGroup]:
        """Groups page by page, each with an explicit `limit` (Elgg's plugins answer a default
        page of 10 or 20 without one), until a short page or `at_most`."""
        found: list[ElggGroup] = []
        offset = start
        while len(found) < at_most:
            size = min(PAGE, at_most - len(found))
            page = await self._groups_page(role, {**given, "limit": size, "offset": offset})
            found += page
            if len(page) < size:
                break
            offset += size
        return found

    async def _groups_page(self, role: Role, given: Mapping[str, Any]) -> list[ElggGroup]:
        try:
            profile, found = await self._role(role, given)
        except BadRequest as error:
            if error.message.strip().lower() == "no groups":  # the rest_api plugin's "none"
                return []
            raise
        parse = _rest_group if profile.shapes == "rest_api" else _group
        return [parse(g) for g in _list(found)]

    async def group(self, guid: int) -> ElggGroup:
        """One group; where the site's methods have no such call (rest_api), found in the list
        of groups (one call of up to GROUPS_AT_MOST)."""
        if (await self.method_profile()).method("group") is None:
            for group in await self.groups(limit=GROUPS_AT_MOST):
                if group.guid == guid:
                    return group
            raise NotFound(SOURCE, f"Elgg shows no group {guid}")
        _, found = await self._role("group", {"guid": guid})
        return _group(found)

    async def members(self, guid: int, *, limit: int = 10, offset: int = 0) -> list[ElggUser]:
        _, found = await self._role("members", {"guid": guid, "limit": limit, "offset": offset})
        return [_user(u) for u in _list(found)]

    async def join(self, guid: int) -> None:
        profile, answer = await self._role("join", {"guid": guid})
        # The rest_api plugin answers a closed group with a membership request, not a join.
        if (
            profile.shapes == "rest_api"
            and isinstance(answer, dict)
            and answer.get("member") != "joined"
        ):
            raise Forbidden(
                SOURCE,
                f"Elgg did not let the caller join: {answer.get('message', 'cantjoin')}",
                upstream_code=str(answer.get("message") or "cantjoin"),
            )

    async def river(
        self, *, group_guid: int | None = None, limit: int = 10, offset: int = 0
    ) -> list[Activity]:
        given = {"group_guid": group_guid, "limit": limit, "offset": offset}
        profile, found = await self._role("activity", given)
        parse = _rest_activity if profile.shapes == "rest_api" else _activity
        return [parse(item) for item in _list(found)]


def signature_refused(method: str, response: httpx.Response, now: float) -> str:
    """Why Elgg may have refused a signed call, from what the gateway can see: the clocks (by
    the answer's Date header), then the secret and the algorithm it cannot check."""
    said = _said(response)
    causes = []
    try:
        site = parsedate_to_datetime(response.headers["date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        causes.append(
            f"the clock (Elgg allows {CLOCK_WINDOW_S} s, 25 h, of skew; the site sent no Date)"
        )
    else:
        skew = round(now - site)
        if abs(skew) > CLOCK_WINDOW_S:
            causes.append(
                f"the clock: this machine is {skew:+d} s from the site's, beyond Elgg's 25 h"
            )
    causes += [
        "the secret: it is not the one of this api_key, or the key was disabled or regenerated",
        "the algorithm: Elgg 5 accepts hmac_algorithm sha1 or sha256 only",
    ]
    return (
        f"Elgg refused the gateway's signed call of {method} ({said}); likely causes: "
        + "; ".join(causes)
    )


def _said(response: httpx.Response) -> str:
    try:
        read(response)
    except UpstreamError as error:
        return f"status {error.upstream_code}: {error.message.rpartition(': ')[2]!r}"
    return f"HTTP {response.status_code}"


def _list(value: Any) -> list[Any]:
    if value in ("", None):  # an empty list in Elgg's XML view is an empty element
        return []
    if not isinstance(value, list):
        raise ProtocolError(SOURCE, "Elgg answered something else where a list was expected")
    return value


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value not in (None, "", 0, "0") else None


def _typed(value: Any, model: type[T], what: str) -> T:
    return typed(SOURCE, _without_empty(value), model, what)


def _without_empty(value: Any) -> Any:
    """Elgg's XML view writes an empty or null value as an empty element (`""` here): absent,
    so that the model's default applies."""
    if isinstance(value, dict):
        return {k: _without_empty(v) for k, v in value.items() if v != ""}
    return value


def _user(raw: Any) -> ElggUser:
    u = _typed(raw, a.User, "a user")
    return ElggUser(
        guid=u.guid,
        username=u.username,
        name=u.name or u.username,
        email=u.email or None,
        avatar_url=u.avatar_url or None,
        location=u.location or None,
    )


def _rest_user(raw: Any) -> ElggUser:
    p = _typed(raw, a.PluginProfile, "a profile")
    fields = p.profile_fields if isinstance(p.profile_fields, dict) else {}
    location = fields.get("location", {})
    return ElggUser(
        guid=None,
        username=p.core.username,
        name=p.core.name or p.core.username,
        email=None,
        avatar_url=p.avatar_url or None,
        location=(location.get("value") if isinstance(location, dict) else None) or None,
    )


def _rest_group(raw: Any) -> ElggGroup:
    g = _typed(raw, a.PluginGroup, "a group")
    return ElggGroup(
        guid=g.guid,
        name=g.title,
        description=g.description or None,
        is_open=g.permission_public,
        member_count=g.members,
        owner_guid=g.owner.guid if g.owner is not None else None,
        created_at=None,
    )


def _rest_activity(raw: Any) -> Activity:
    x = _typed(raw, a.PluginActivity, "a river item")
    subject = ElggUser(
        guid=x.subject_guid,
        username=x.username,
        name=x.name or x.username,
        email=None,
        avatar_url=x.avatar_url or None,
        location=None,
    )
    return Activity(
        id=x.id,
        action=x.action_type,
        subject=subject,
        object_guid=x.object_guid,
        object_title=None,
        summary=f"{subject.name} {x.txt}".strip(),
        created_at=None,
    )


def _group(raw: Any) -> ElggGroup:
    g = _typed(raw, a.Group, "a group")
    return ElggGroup(
        guid=g.guid,
        name=g.name,
        description=g.description or None,
        is_open=g.membership == "open",
        member_count=g.members_count,
        owner_guid=g.owner_guid or None,
        created_at=_time(g.time_created),
    )


def _activity(raw: Any) -> Activity:
    x = _typed(raw, a.Activity, "a river item")
    subject = ElggUser(
        guid=x.subject_guid,
        username=x.subject_username,
        name=x.subject_name or x.subject_username,
        email=None,
        avatar_url=None,
        location=None,
    )
    return Activity(
        id=x.id,
        action=x.action_type,
        subject=subject,
        object_guid=x.object_guid,
        object_title=x.object_title or None,
        summary=x.summary,
        created_at=_time(x.posted),
    )
