"""Sealing what the gateway keeps in Redis: one AES-GCM scheme for answers, memories and
idempotent replies, each purpose under a key of its own."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["Sealer"]


class Sealer:
    """AES-GCM under a key derived from the cache secret (HKDF, one key per `purpose`): what
    the gateway keeps in Redis is sealed with it, each value bound to the name it is kept
    under, so that whoever can read Redis cannot read it, and a value copied under another
    name (another caller's) fails its check instead of being served. A sealed value is the
    12-byte nonce and the ciphertext with its tag."""

    def __init__(self, secret: bytes, purpose: bytes = b"legacygraph cache answers") -> None:
        key = HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose)
        self._aead = AESGCM(key.derive(secret))

    def seal(self, value: bytes, bound: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, value, bound)

    def open(self, sealed: bytes, bound: bytes) -> bytes:
        """The value; raises `InvalidTag` (or `ValueError`) when it fails its check."""
        return self._aead.decrypt(sealed[:12], sealed[12:], bound)
