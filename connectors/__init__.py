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
from .http import CallStats, SharedClient, Upstream, decode_json, new_client
from .memory import LocalMemory, Recollection, RedisMemory
from .transport import TLS, PooledTransport, ProxyRefused, TLSFailure

__all__ = [
    "TLS",
    "BadRequest",
    "CallStats",
    "Forbidden",
    "LocalMemory",
    "NotFound",
    "PooledTransport",
    "ProtocolError",
    "ProxyRefused",
    "Recollection",
    "RedisMemory",
    "SharedClient",
    "TLSFailure",
    "Unauthenticated",
    "Unavailable",
    "Upstream",
    "UpstreamError",
    "UpstreamTimeout",
    "decode_json",
    "new_client",
]
