"""Method profiles: which of a site's web service methods do what the graph needs.

Elgg's core exposes only `system.api.list` and `auth.gettoken`; a site's plugins declare the rest,
each with names, parameters and answers of its own. A profile names, for each thing the gateway
does (`Role`), the method a known plugin exposes for it, with renamed and fixed parameters; a site
with a plugin of its own overrides single roles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

__all__ = ["PROFILES", "ROLES", "Method", "MethodProfile", "Role", "choose", "parse_override"]

Role = Literal[
    "profile", "user_by_email", "user_groups", "groups", "group", "members", "activity", "join"
]
ROLES: tuple[Role, ...] = (
    "profile",
    "user_by_email",
    "user_groups",
    "groups",
    "group",
    "members",
    "activity",
    "join",
)
DESCRIBED: Mapping[Role, str] = {
    "profile": "a user's profile",
    "user_by_email": "finding users by e-mail",
    "user_groups": "a user's groups",
    "groups": "the list of groups",
    "group": "one group",
    "members": "a group's members",
    "activity": "a group's activity",
    "join": "joining a group",
}


@dataclass(frozen=True)
class Method:
    name: str
    params: Mapping[str, str] = field(default_factory=dict)
    """The gateway's parameter names → the site's, where they differ."""
    fixed: Mapping[str, str] = field(default_factory=dict)
    """Parameters sent every time (`context=member`)."""

    def arguments(self, given: Mapping[str, object]) -> dict[str, object]:
        return {**self.fixed, **{self.params.get(k, k): v for k, v in given.items()}}


@dataclass(frozen=True)
class MethodProfile:
    name: str
    methods: Mapping[Role, Method]
    shapes: Literal["legacygraph", "rest_api"]
    """How its answers are laid out: which parser reads them."""
    caller_username: frozenset[Role] = frozenset()
    """Roles whose method needs the caller's username (`username=`) although it is theirs."""

    def method(self, role: Role) -> Method | None:
        return self.methods.get(role)

    @staticmethod
    def missing(profile: str, role: Role) -> str:
        return (
            f"this Elgg site's methods ({profile}) include none for {DESCRIBED[role]}; name one "
            f'with [sources.elgg] overrides = ["{role}=plugin.method"]'
        )


PROFILES: Mapping[str, MethodProfile] = {
    "legacygraph": MethodProfile(
        "legacygraph",
        {
            "profile": Method("user.get_profile"),
            "user_by_email": Method("user.get_user_by_email"),
            "user_groups": Method("user.get_groups"),
            "groups": Method("group.get_groups"),
            "group": Method("group.get"),
            "members": Method("group.get_members"),
            "activity": Method("site.river"),
            "join": Method("group.join"),
        },
        shapes="legacygraph",
    ),
    # The Elgg 2/3 "Web Services REST API" plugin of the manlui/elgg_with_rest_api repository
    # (lib/group.php, lib/user.php): no method for one group or a group's members.
    "rest_api": MethodProfile(
        "rest_api",
        {
            "profile": Method("user.get_profile"),
            "user_by_email": Method("user.get_user_by_email"),
            "user_groups": Method("group.get_list", fixed={"context": "member"}),
            "groups": Method("group.get_list", fixed={"context": "all"}),
            "activity": Method("group.get_activity", params={"group_guid": "guid"}),
            "join": Method("group.join_group"),
        },
        shapes="rest_api",
        caller_username=frozenset({"user_groups", "groups", "activity"}),
    ),
}

OVERRIDE = re.compile(r"^(\w+)=([\w.]+)(?:\(([\w:,\s]*)\))?$")


def parse_override(text: str) -> tuple[Role, Method]:
    """`members=mygroups.members(guid:group_guid)`: the role, its method, renamed parameters."""
    match = OVERRIDE.match(text.strip())
    if match is None or match.group(1) not in ROLES:
        raise ValueError(
            f"{text!r}: an override is role=method or role=method(ours:theirs,...), with a role "
            f"among {', '.join(ROLES)}"
        )
    renames = {}
    for pair in filter(None, (p.strip() for p in (match.group(3) or "").split(","))):
        ours, _, theirs = pair.partition(":")
        renames[ours.strip()] = theirs.strip()
    role: Role = match.group(1)  # type: ignore[assignment]
    return role, Method(match.group(2), params=renames)


def choose(name: str, exposed: Iterable[str], overrides: Iterable[str] = ()) -> MethodProfile:
    """The configured profile, or (`auto`) the one whose methods the site exposes."""
    names = set(exposed)
    if name == "auto":
        name = (
            "rest_api"
            if "group.get_list" in names and "group.get_groups" not in names
            else ("legacygraph")
        )
    profile = PROFILES[name]
    changed = dict(profile.methods)
    for text in overrides:
        role, method = parse_override(text)
        changed[role] = method
    return replace(profile, methods=changed)
