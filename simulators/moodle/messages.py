"""`core_message_send_instant_messages`, and who may message whom."""

from __future__ import annotations

import html
import time
from typing import Any

from .access import GRADERS, role, shared_courses
from .errors import INVALID_PARAMETER, moodle_exception
from .site import Caller, Site

__all__ = ["may_message", "send_messages"]


def may_message(site: Site, caller: Caller, userid: int) -> bool:
    """`\\core_message\\api::can_send_message`: anyone with a course in common unless blocked
    or taking contacts only (the simulator has no contacts); a teacher of a course in
    common whatever the learner's preferences; an administrator, anyone."""
    if caller.is_admin or userid == caller.id:
        return True
    shared = shared_courses(site, caller, userid)
    if any(role(site, caller, c["id"]) in GRADERS for c in shared):
        return True
    blocked = site.store.one(
        "SELECT 1 FROM blocks WHERE userid = ? AND blockeduserid = ?", (userid, caller.id)
    )
    only_contacts = site.store.one("SELECT 1 FROM contacts_only WHERE userid = ?", (userid,))
    return bool(shared) and blocked is None and only_contacts is None


def send_messages(site: Site, caller: Caller, p: dict[str, Any]) -> Any:
    """`core_message_send_instant_messages`, with 4.5.6's answers: a refusal per message
    (`msgid` -1 and words), and a call where some were sent and some refused answered
    `formatnotsupported` after sending (recorded)."""
    if not site.store.messaging:
        raise moodle_exception("disabled", "Messaging is disabled on this site", "message")
    if not p["messages"]:
        raise INVALID_PARAMETER
    results: list[dict[str, Any]] = []
    for message in p["messages"]:
        to = message["touserid"]
        error = None
        if site.store.one("SELECT 1 FROM users WHERE id = ?", (to,)) is None:
            error = f"You cannot send a message to a user ID ({to}) that doesn't exist."
        elif len(message["text"].encode()) > 4096:
            error = "The message is longer than the maximum allowed."
        elif not may_message(site, caller, to):
            error = (
                "You can't message this user due to their message preferences. "
                "Try adding them as a contact."
            )
        result: dict[str, Any] = {}
        if message["clientmsgid"]:
            result["clientmsgid"] = message["clientmsgid"]
        if error is not None:
            results.append({"msgid": -1, **result, "errormessage": error})
            continue
        now = int(time.time())
        conversation = site.store.conversation(caller.id, to)
        cursor = site.store.execute(
            "INSERT INTO messages (useridfrom, useridto, text, timecreated, conversationid)"
            " VALUES (?, ?, ?, ?, ?)",
            (caller.id, to, message["text"], now, conversation),
        )
        results.append(
            {
                "msgid": cursor.lastrowid,
                **result,
                "text": f"<p>{html.escape(message['text'])}</p>",
                "timecreated": now,
                "conversationid": conversation,
                "useridfrom": caller.id,
            }
        )
    for result in results:
        result["candeletemessagesforallusers"] = caller.is_admin
    if any(r["msgid"] > 0 for r in results) and any(r["msgid"] < 0 for r in results):
        raise moodle_exception("formatnotsupported", "webservice/formatnotsupported")
    return results
