"""Elgg (social groups): the web services API, HMAC-signed, with a user's auth_token."""

from .auth import ALGORITHMS, ElggAuth, signature
from .client import TOKEN_LIFETIME, Elgg, error_from, read
from .models import Activity, ElggGroup, ElggUser, MethodInfo, Token

__all__ = [
    "ALGORITHMS",
    "TOKEN_LIFETIME",
    "Activity",
    "Elgg",
    "ElggAuth",
    "ElggGroup",
    "ElggUser",
    "MethodInfo",
    "Token",
    "error_from",
    "read",
    "signature",
]
