"""Eqsash (a module/method CMS API): `key`, `module`, `method`, `data`, and a user token."""

from .auth import EqsashAuth
from .client import Eqsash, read
from .models import Article, EqsashUser, Section, Token

__all__ = ["Article", "Eqsash", "EqsashAuth", "EqsashUser", "Section", "Token", "read"]
