"""CiviCRM (contacts): `extern/rest.php` with a site key and the caller's api_key."""

from .auth import CivicrmAuth
from .client import CONTACT_FIELDS, ApiStyle, Civicrm
from .custom import InvalidValue
from .models import (
    Contact,
    ContactFields,
    ContactFilter,
    CustomField,
    CustomOption,
    Group,
    Membership,
    Relationship,
    RelationshipType,
)
from .results import error_from, parse_xml

__all__ = [
    "CONTACT_FIELDS",
    "ApiStyle",
    "Civicrm",
    "CivicrmAuth",
    "Contact",
    "ContactFields",
    "ContactFilter",
    "CustomField",
    "CustomOption",
    "Group",
    "InvalidValue",
    "Membership",
    "Relationship",
    "RelationshipType",
    "error_from",
    "parse_xml",
]
