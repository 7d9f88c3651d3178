"""Elgg (social groups): the web services API, HMAC-signed, with a user's auth_token."""

from .auth import ALGORITHMS, ElggAuth, signature
from .client import GROUPS_AT_MOST, TOKEN_LIFETIME, Elgg, error_from, read
from .models import Activity, ElggGroup, ElggUser, MethodInfo, Token
from .profiles import PROFILES, MethodProfile, parse_override

__all__ = [
    "ALGORITHMS",
    "GROUPS_AT_MOST",
    "PROFILES",
    "TOKEN_LIFETIME",
    "Activity",
    "Elgg",
    "ElggAuth",
    "ElggGroup",
    "ElggUser",
    "MethodInfo",
    "MethodProfile",
    "Token",
    "error_from",
    "parse_override",
    "read",
    "signature",
]
