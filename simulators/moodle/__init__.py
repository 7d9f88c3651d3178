"""A stand-in for a Moodle site's REST web services, over SQLite, seeded from the shared world."""

from .app import MOBILE_SERVICE, create_app
from .store import moodle_user_id

__all__ = ["MOBILE_SERVICE", "create_app", "moodle_user_id"]
