"""A stand-in for a Flarum 1.x forum's JSON:API, over SQLite, seeded from the shared world."""

from .app import create_app
from .store import SERVICE_API_KEY, FlarumStore

__all__ = ["SERVICE_API_KEY", "FlarumStore", "create_app"]
