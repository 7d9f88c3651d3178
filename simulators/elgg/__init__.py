"""A stand-in for an Elgg site's web services API (HMAC-signed), seeded from the shared world."""

from .app import API_KEY, SECRET, create_app, user_guid

__all__ = ["API_KEY", "SECRET", "create_app", "user_guid"]
