"""Issue 27 (CiviCRM): search by field, relationships, custom fields, groups, recorded on the real
CiviCRM 5.77 per role (admin: a WordPress administrator; restricted: coord1, role crm_restricted with
access CiviCRM, view and edit all contacts, without "access all custom data" and "edit groups"),
on the WordPress REST route with the gateway's json= encoding, after issue27-makedata.php.
Usage: issue27-record.py OUT.jsonl FIRST_SEQ-1 "SINCE" (a time between the contacts' changes)."""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, os.environ["CIVICRM_RECORDER"])  # the folder of realworld/civicrm-5.77/record.py
import record
from record import Recorder

record.ROLES["restricted"] = "coord1"
creds = json.load(open(os.environ["CIVICRM_CREDS"]))
creds["api_keys"]["coord1"] = "key-coord1-0123456789"
r = Recorder(os.environ.get("CIVICRM_URL", "http://127.0.0.1:9240"), creds, {}, Path(sys.argv[1]))
r.seq = int(sys.argv[2])
since = sys.argv[3]  # a time between the older contacts' last change and the newest ones
W = "wpjson"


def v(as_, case, entity, action, params):
    return r.v3(as_, case, W, entity, action, params)[1]


page = {"limit": 4, "offset": 0, "sort": "sort_name ASC"}
ret = ["contact_type", "display_name", "email"]
# Search by field ---------------------------------------------------------------------------------
for as_ in ("admin", "restricted"):
    v(
        as_,
        "search: email (exact, any case)",
        "Contact",
        "get",
        {"email": "ANA.Alvarez@example.org", "return": ret, "options": page},
    )
    v(
        as_,
        "search: contact_type, city, country and group combined",
        "Contact",
        "get",
        {
            "contact_type": "Individual",
            "city": "Leeds",
            "country": "United Kingdom",
            "group": {"IN": [2]},
            "return": ret + ["city", "country"],
            "options": page,
        },
    )
    v(
        as_,
        "search: getcount of the same filters",
        "Contact",
        "getcount",
        {
            "contact_type": "Individual",
            "city": "Leeds",
            "country": "United Kingdom",
            "group": {"IN": [2]},
        },
    )
v(
    "admin",
    "search: first_name (exact)",
    "Contact",
    "get",
    {"first_name": "Ana", "return": ["contact_type", "first_name", "last_name"], "options": page},
)
v(
    "admin",
    "search: last_name (exact)",
    "Contact",
    "get",
    {"last_name": "alvarez", "return": ["contact_type", "last_name"], "options": page},
)
v(
    "admin",
    "search: first_name is matched whole, not a prefix",
    "Contact",
    "get",
    {"first_name": "An", "return": ["contact_type", "first_name"], "options": page},
)
v(
    "admin",
    "search: country by name",
    "Contact",
    "get",
    {
        "country": "France",
        "return": ["contact_type", "display_name", "city", "country"],
        "options": page,
    },
)
v(
    "admin",
    "search: country by ISO code is refused",
    "Contact",
    "get",
    {"country": "FR", "return": ["contact_type", "display_name"], "options": page},
)
v(
    "admin",
    "search: city (any case)",
    "Contact",
    "get",
    {"city": "lyon", "return": ["contact_type", "display_name", "city"], "options": page},
)
v(
    "admin",
    "search: contact_type Organization",
    "Contact",
    "get",
    {"contact_type": "Organization", "return": ["contact_type", "display_name"], "options": page},
)
v(
    "admin",
    "search: modified since (>=)",
    "Contact",
    "get",
    {
        "modified_date": {">=": since},
        "return": ["contact_type", "display_name", "modified_date"],
        "options": {"limit": 0, "sort": "sort_name ASC"},
    },
)
v(
    "admin",
    "search: a smart group (group IN)",
    "Contact",
    "get",
    {"group": {"IN": [5]}, "return": ["contact_type", "display_name", "group"], "options": page},
)
v("admin", "search: getcount of a smart group", "Contact", "getcount", {"group": {"IN": [5]}})
v(
    "admin",
    "search: only the fields asked for, with custom fields",
    "Contact",
    "get",
    {
        "contact_type": "Individual",
        "group": {"IN": [2]},
        "return": ["contact_type", "display_name", "custom_1", "custom_2", "custom_4", "custom_7"],
        "options": page,
    },
)
# Relationships -----------------------------------------------------------------------------------
for as_ in ("admin", "restricted"):
    v(
        as_,
        "relationship types with both labels",
        "RelationshipType",
        "get",
        {
            "options": {"limit": 0},
            "return": ["id", "name_a_b", "label_a_b", "name_b_a", "label_b_a", "is_active"],
        },
    )
    v(
        as_,
        "relationships of a page of contacts: contact_id_a IN or contact_id_b IN (options.or)",
        "Relationship",
        "get",
        {
            "contact_id_a": {"IN": [7, 8, 9, 10, 31]},
            "contact_id_b": {"IN": [7, 8, 9, 10, 31]},
            "options": {"or": [["contact_id_a", "contact_id_b"]], "limit": 0},
        },
    )
v(
    "admin",
    "relationships: without options.or the two IN filters are both required",
    "Relationship",
    "get",
    {
        "contact_id_a": {"IN": [7, 8, 9, 10, 31]},
        "contact_id_b": {"IN": [7, 8, 9, 10, 31]},
        "options": {"limit": 0},
    },
)
# Custom fields -----------------------------------------------------------------------------------
meta = {
    "is_active": 1,
    "custom_group_id.is_active": 1,
    "custom_group_id.extends": {"IN": ["Contact", "Individual", "Organization", "Household"]},
    "custom_group_id.is_multiple": 0,
    "return": [
        "id",
        "name",
        "label",
        "data_type",
        "html_type",
        "option_group_id",
        "custom_group_id",
        "custom_group_id.title",
        "custom_group_id.extends",
    ],
    "options": {"limit": 0},
}
for as_ in ("admin", "restricted"):
    v(as_, "custom fields of contacts, with their group (joined)", "CustomField", "get", meta)
    v(
        as_,
        "custom groups",
        "CustomGroup",
        "get",
        {"is_active": 1, "options": {"limit": 0}, "return": ["id", "name", "title", "extends"]},
    )
fields = v(
    "admin",
    "custom fields (for the option group)",
    "CustomField",
    "get",
    {"id": 1, "return": ["option_group_id"]},
)
og = int(fields["values"][0]["option_group_id"])
for as_ in ("admin", "restricted"):
    v(
        as_,
        "option values of the select fields' option groups",
        "OptionValue",
        "get",
        {
            "option_group_id": {"IN": [og]},
            "is_active": 1,
            "return": ["option_group_id", "value", "label"],
            "options": {"limit": 0},
        },
    )
    v(
        as_,
        "custom values of a page of contacts (return custom_N)",
        "Contact",
        "get",
        {
            "id": {"IN": [7, 8, 9, 31]},
            "return": [
                "custom_1",
                "custom_2",
                "custom_3",
                "custom_4",
                "custom_5",
                "custom_6",
                "custom_7",
            ],
            "options": {"limit": 0},
        },
    )
v(
    "admin",
    "write custom fields (select, number, date, boolean, text)",
    "Contact",
    "create",
    {
        "id": 9,
        "custom_1": "S",
        "custom_2": 7.25,
        "custom_3": "2024-03-01",
        "custom_4": 0,
        "custom_5": "No nuts",
        "custom_6": 2,
    },
)
v(
    "admin",
    "read them back",
    "Contact",
    "get",
    {"id": 9, "return": ["custom_1", "custom_2", "custom_3", "custom_4", "custom_5", "custom_6"]},
)
v(
    "admin",
    "clear a custom field with an empty string",
    "Contact",
    "create",
    {"id": 9, "custom_5": ""},
)
v(
    "admin",
    "an option value the field does not have",
    "Contact",
    "create",
    {"id": 9, "custom_1": "XL"},
)
v("admin", "a number field given text", "Contact", "create", {"id": 9, "custom_2": "lots"})
v(
    "admin",
    "read them back",
    "Contact",
    "get",
    {"id": 9, "return": ["custom_1", "custom_2", "custom_5"]},
)
v(
    "restricted",
    "write a custom field as a user without access all custom data",
    "Contact",
    "create",
    {"id": 9, "custom_1": "L"},
)
v("admin", "read it back", "Contact", "get", {"id": 9, "return": ["custom_1", "modified_date"]})
# Groups ------------------------------------------------------------------------------------------
g = {
    "title": f"Newsletter {since[-8:]}",
    "description": "Monthly news",
    "group_type": ["2"],
    "visibility": "Public Pages",
}
v("admin", "create a group (title, description, types, visibility)", "Group", "create", g)
v("admin", "the same title again", "Group", "create", g)
v(
    "admin",
    "a visibility CiviCRM does not have",
    "Group",
    "create",
    {**g, "title": g["title"] + " b", "visibility": "Everyone"},
)
v(
    "restricted",
    "create a group without edit groups",
    "Group",
    "create",
    {**g, "title": g["title"] + " c"},
)
v(
    "admin",
    "groups with their saved search (a smart group has one)",
    "Group",
    "get",
    {"id": {"IN": [2, 5]}, "options": {"limit": 0}},
)
v(
    "admin",
    "GroupContact.get lists no members of a smart group",
    "GroupContact",
    "get",
    {"group_id": {"IN": [5]}, "status": "Added", "options": {"limit": 0}},
)
print(r.seq, r.counts)
