"""Typed async clients for the legacy systems, one package per system. No GraphQL here."""

from .errors import (
    BadRequest,
    Forbidden,
    NotFound,
    ProtocolError,
    Unauthenticated,
    Unavailable,
    UpstreamError,
    UpstreamTimeout,
)
from .http import CallStats, Upstream, decode_json, new_client

__all__ = [
    "BadRequest",
    "CallStats",
    "Forbidden",
    "NotFound",
    "ProtocolError",
    "Unauthenticated",
    "Unavailable",
    "Upstream",
    "UpstreamError",
    "UpstreamTimeout",
    "decode_json",
    "new_client",
]
