"""CiviCRM (contacts): `extern/rest.php` with a site key and the caller's api_key."""

from .auth import CivicrmAuth
from .client import CONTACT_FIELDS, ApiStyle, Civicrm
from .models import Contact, ContactFields, Group, Membership
from .results import error_from, parse_xml

__all__ = [
    "CONTACT_FIELDS",
    "ApiStyle",
    "Civicrm",
    "CivicrmAuth",
    "Contact",
    "ContactFields",
    "Group",
    "Membership",
    "error_from",
    "parse_xml",
]
