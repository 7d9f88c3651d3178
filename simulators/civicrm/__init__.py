"""A stand-in for CiviCRM's REST interface (API v3 and the 3.2-era v2), over SQLite."""

from .app import REST_PATH, SITE_KEY, create_app
from .store import api_key_of, contact_id_of

__all__ = ["REST_PATH", "SITE_KEY", "api_key_of", "contact_id_of", "create_app"]
