"""The two method sets a site may run: this project's own plugin (`OWN_METHODS`) or the
"Web Services REST API" plugin (`PLUGIN_METHODS`)."""

from __future__ import annotations

from . import auth, groups, rest_api, river, system, users
from .site import Method

__all__ = ["OWN_METHODS", "PLUGIN_METHODS"]

OWN_METHODS: dict[str, Method] = {
    "system.api.list": Method(
        system.api_list, "A list of the methods this site exposes.", {}, require_api_auth=False
    ),
    "auth.gettoken": Method(
        auth.get_token,
        "A user authentication token.",
        {"username": ("string", True), "password": ("string", True)},
        "POST",
        require_api_auth=False,
    ),
    "user.get_profile": Method(
        users.get_profile,
        "A user's profile.",
        {"username": ("string", False)},
        require_user_auth=True,
    ),
    "user.get_user_by_email": Method(
        users.by_email,
        "Users with this e-mail address.",
        {"email": ("string", True)},
        require_user_auth=True,
    ),
    "user.get_groups": Method(
        groups.user_groups,
        "The groups a user belongs to.",
        {"username": ("string", False), "limit": ("int", False), "offset": ("int", False)},
        require_user_auth=True,
    ),
    "group.get_groups": Method(
        groups.list_groups, "All groups.", {"limit": ("int", False), "offset": ("int", False)}
    ),
    "group.get": Method(groups.get_group, "One group.", {"guid": ("int", True)}),
    "group.get_members": Method(
        groups.get_members,
        "A group's members.",
        {"guid": ("int", True), "limit": ("int", False), "offset": ("int", False)},
    ),
    "group.join": Method(
        groups.join, "Join a group.", {"guid": ("int", True)}, "POST", require_user_auth=True
    ),
    "site.river": Method(
        river.river,
        "The activity river.",
        {"limit": ("int", False), "offset": ("int", False), "group_guid": ("int", False)},
    ),
}


PLUGIN_METHODS: dict[str, Method] = {
    "system.api.list": OWN_METHODS["system.api.list"],
    "auth.gettoken": OWN_METHODS["auth.gettoken"],
    "user.get_profile": Method(
        rest_api.profile,
        "Get user profile information",
        {"username": ("string", False)},
        require_user_auth=True,
    ),
    "user.get_user_by_email": Method(
        rest_api.by_email,
        "Get Username by email",
        {"email": ("string", True)},
        require_user_auth=True,
    ),
    "group.get_list": Method(
        rest_api.group_list,
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
        rest_api.group_activity,
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
        rest_api.join_group,
        "Join group",
        {"guid": ("string", True)},
        "POST",
        require_user_auth=True,
    ),
}
