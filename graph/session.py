"""Gateway session tokens: the caller's source tokens, encrypted and authenticated (Fernet:
AES-CBC with HMAC-SHA256), so an app can hold one token instead of five.

The first configured key makes new tokens; older keys are still read, but only for tokens
younger than the rotation grace. Every token expires `ttl_s` after it was issued.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken

from graph.config import SessionSettings

__all__ = ["InvalidSession", "SessionCodec", "session_of"]


class InvalidSession(Exception):
    """The bearer token is expired, tampered with, made with a retired key, or not ours."""


@dataclass(frozen=True)
class SessionCodec:
    keys: tuple[Fernet, ...] = field(repr=False)
    ttl_s: int
    rotation_grace_s: int
    clock: Callable[[], float] = time.time

    @classmethod
    def from_settings(
        cls, settings: SessionSettings, clock: Callable[[], float] = time.time
    ) -> SessionCodec | None:
        """None when no key is configured: the feature is off."""
        if not settings.keys:
            return None
        return cls(
            tuple(Fernet(k) for k in settings.keys),
            settings.ttl_s,
            settings.rotation_grace_s,
            clock,
        )

    def issue(self, tokens: Mapping[str, str]) -> str:
        payload = json.dumps(dict(tokens), sort_keys=True).encode()
        return self.keys[0].encrypt_at_time(payload, int(self.clock())).decode()

    def read(self, token: str) -> dict[str, str]:
        now = int(self.clock())
        for index, key in enumerate(self.keys):
            ttl = self.ttl_s if index == 0 else min(self.ttl_s, self.rotation_grace_s)
            try:
                payload = key.decrypt_at_time(token.encode(), ttl=ttl, current_time=now)
            except InvalidToken:
                continue
            tokens = json.loads(payload)
            if isinstance(tokens, dict) and all(isinstance(v, str) for v in tokens.values()):
                return tokens
        raise InvalidSession(
            "the gateway session token is expired, altered or made with a retired key"
        )


def session_of(authorization: str, sessions: SessionCodec | None) -> dict[str, str] | None:
    """The source tokens of a gateway session sent as `Authorization: Bearer …`; None when the
    header holds none. `InvalidSession` for a session this gateway cannot read (or where
    sessions are off)."""
    if not authorization.lower().startswith("bearer "):
        return None
    if sessions is None:
        raise InvalidSession("gateway session tokens are not enabled on this gateway")
    return sessions.read(authorization[7:].strip())
