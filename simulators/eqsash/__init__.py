"""A stand-in for an Eqsash site's external API (provisional where Eqsash is undocumented)."""

from .app import API_KEY, API_PATH, PROVISIONAL, SESSION_NAME, create_app

__all__ = ["API_KEY", "API_PATH", "PROVISIONAL", "SESSION_NAME", "create_app"]
