"""CiviCRM's answers: JSON (v3 envelope or v2 bare lists) or the `<ResultSet>` XML, and the
`is_error` envelope mapped to the error hierarchy."""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ..errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ProtocolError,
    Unauthenticated,
    Unavailable,
    UpstreamError,
)

__all__ = ["Duplicate", "error_from", "parse_xml", "read"]

SOURCE = "civicrm"
MISSING_ID = re.compile(r"\binvalid (?:contact|group)[ _]?id\b")
NUMBERED = re.compile(r"<(/?)(\d+)(\s*/?)>")
NUMBERED_TAG = re.compile(r"_\d+")
MISSING_RECORD = re.compile(
    r"\b(?:contact|group) id \d+ not found|\b(?:contact|group)_id is not valid"
    r"|expected one \w+ but found 0"
)
"""CiviCRM 5's words for a record that is not there (its codes: 0, -3, "undefined")."""
MISSING_FIELD = re.compile(
    r"(?:missing from params array: (?:one of )?|^)([a-z_]+)(?: is a required field)?"
)


CHAINED_CALL = re.compile(r"^Error in call to \w+ : ")
"""How CiviCRM 5 prefixes the error of a call chained into another (`api.Phone.create`)."""
MATCHING = re.compile(r"found matching contacts: ([\d,\s]+)", re.IGNORECASE)


class Duplicate(Conflict):
    """CiviCRM's duplicate check found the contact already there (`error_code: duplicate`,
    `ids`: the matching contacts, whether or not the caller may see them)."""

    def __init__(self, message: str, ids: list[int]) -> None:
        super().__init__(SOURCE, message, upstream_code="duplicate")
        self.ids = ids


SLASHED_JSON = (
    "CiviCRM could not decode the JSON the gateway sent: on WordPress, extern/rest.php cannot "
    "read JSON parameters (WordPress adds slashes to them). Use the plugin's endpoint: "
    'rest_path = "/wp-json/civicrm/v3/rest"'
)


def read(response: httpx.Response) -> Any:
    """The decoded answer: JSON as it is, XML as a list of result records. Raises on errors.

    WordPress's REST endpoint answers key problems as WordPress errors
    (`{"code", "message", "data"}`) with HTTP 400, 403 or 500: those say why, and are mapped by
    what they say. Any other HTTP 5xx is a failure of the site.
    """
    text = response.text.lstrip()
    if response.status_code >= 400 and text.startswith("{"):
        try:
            refusal = json.loads(text)
        except ValueError:
            refusal = None
        if isinstance(refusal, dict) and "code" in refusal and "message" in refusal:
            raise _wordpress_error(response.status_code, refusal)
    if response.status_code >= 500:
        raise Unavailable(SOURCE, f"CiviCRM failed (HTTP {response.status_code})")
    if text.startswith("<?xml") or text.startswith("<ResultSet"):
        body: Any = parse_xml(text)
        if len(body) == 1 and str(body[0].get("is_error", "0")) == "1":
            raise error_from(body[0])
        return body
    if text.startswith("<"):
        raise ProtocolError(
            SOURCE, f"CiviCRM answered HTML (HTTP {response.status_code}), not its API"
        )
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise ProtocolError(
            SOURCE, f"CiviCRM answered invalid JSON (HTTP {response.status_code})"
        ) from exc
    if isinstance(body, dict) and str(body.get("is_error", "0")) == "1":
        if body.get("1") == "Unable to decode supplied JSON.":
            raise ProtocolError(SOURCE, SLASHED_JSON, upstream_code="json")
        raise error_from(body)
    return body


def _wordpress_error(status: int, body: dict[str, Any]) -> UpstreamError:
    message, code = str(body["message"]), str(body["code"])
    lower = message.lower()
    if "api_key" in lower:
        return Unauthenticated(SOURCE, "CiviCRM did not accept the api key", upstream_code=code)
    if "key" in lower:
        return Unauthenticated(SOURCE, "CiviCRM refused the gateway's site key", upstream_code=code)
    if status >= 500:
        return Unavailable(SOURCE, f"CiviCRM failed (HTTP {status}): {message}", upstream_code=code)
    return BadRequest(SOURCE, message, upstream_code=code)


def parse_xml(text: str) -> list[dict[str, Any]]:
    """`<ResultSet><Result>…</Result>…</ResultSet>` → one dict per Result. DTDs and entities are
    refused (defusedxml), so a hostile document cannot expand or fetch anything."""
    # CiviCRM writes the items of a list as elements named by their index (`<0>1</0>`), which no
    # XML parser accepts: they are renamed `<_0>` first.
    text = NUMBERED.sub(r"<\1_\2\3>", text)
    try:
        root = fromstring(text, forbid_dtd=True)
    except (DefusedXmlException, ParseError) as exc:
        raise ProtocolError(
            SOURCE, f"CiviCRM answered unusable XML ({type(exc).__name__})"
        ) from exc
    if root.tag != "ResultSet":
        raise ProtocolError(SOURCE, f"CiviCRM answered XML without a ResultSet (<{root.tag}>)")
    return [_element(result) for result in root if result.tag == "Result"]


def _element(element: Element) -> Any:
    """A record; a numbered list (`<_0>…</_0><_1>…</_1>`) as a list."""
    items = {child.tag: _element(child) if len(child) else (child.text or "") for child in element}
    if items and all(NUMBERED_TAG.fullmatch(tag) for tag in items):
        return list(items.values())
    return items


def error_from(body: dict[str, Any]) -> UpstreamError:
    """CiviCRM's messages are its error codes: map them by what they say."""
    message = CHAINED_CALL.sub("", str(body.get("error_message") or "CiviCRM reported an error"))
    code = None if body.get("error_code") is None else str(body["error_code"])
    matching = MATCHING.search(message)
    if code == "duplicate" or matching:
        ids = body.get("ids") if isinstance(body.get("ids"), list) else None
        found = ids if ids is not None else (matching.group(1).split(",") if matching else [])
        numbers = [int(i) for i in (str(f).strip() for f in found) if i.isdigit()]
        which = ", ".join(map(str, numbers)) or "another contact"
        return Duplicate(
            f"CiviCRM's duplicate rule matches contact {which}: nothing was created", numbers
        )
    field = body.get("error_field") or None
    lower = message.lower()
    if "site key" in lower or "'key'" in lower or "failed to authenticate key" in lower:
        return Unauthenticated(SOURCE, "CiviCRM refused the gateway's site key", upstream_code=code)
    if any(
        s in lower
        for s in (
            "api_key",
            "api key",
            "api-key",
            "valid session",
            "name or password",
            "name / password",
        )
    ):
        return Unauthenticated(
            SOURCE, message.removeprefix("FATAL: ").removeprefix("ERROR: "), upstream_code=code
        )
    if "permission" in lower or code == "unauthorized":
        return Forbidden(SOURCE, message, upstream_code=code)
    if "mandatory" in lower or "required" in lower:
        match = MISSING_FIELD.search(message)
        return BadRequest(
            SOURCE, message, upstream_code=code, field=field or (match.group(1) if match else None)
        )
    if (
        code == "not-found"
        or MISSING_ID.search(lower)
        or MISSING_RECORD.search(lower)
        or (
            ("is not valid" in lower or "is not a valid option" in lower)
            and field in ("id", "contact_id", "group_id")
        )
    ):
        return NotFound(SOURCE, message, upstream_code=code, field=field)
    return BadRequest(SOURCE, message, upstream_code=code, field=field)
