"""`core_webservice_get_site_info`."""

from __future__ import annotations

from typing import Any

from .services import service_functions
from .site import SITE_URL, Caller, Site
from .store import SITE_COURSE

__all__ = ["RELEASE", "VERSION", "site_info"]


RELEASE, VERSION = "4.5.6 (Build: 20250811)", "2024100706"


def site_info(site: Site, caller: Caller, _: dict[str, Any]) -> Any:
    user = caller.user
    return {
        "sitename": "Legacygraph Community School",
        "username": user["username"],
        "firstname": user["firstname"],
        "lastname": user["lastname"],
        "fullname": f"{user['firstname']} {user['lastname']}",
        "lang": "en",
        "userid": caller.id,
        "siteurl": SITE_URL,
        "userpictureurl": f"{SITE_URL}/theme/image.php/boost/core/1/u/f1",
        "functions": [
            {"name": name, "version": VERSION} for name in service_functions(site, caller.service)
        ],
        "downloadfiles": 1,
        "uploadfiles": 1,
        "release": RELEASE,
        "version": VERSION,
        "mobilecssurl": "",
        "advancedfeatures": [{"name": "enablecompletion", "value": 1}],
        "usercanmanageownfiles": True,
        "userquota": 104857600,
        "usermaxuploadfilesize": 2097152,
        "userhomepage": 1,
        "userprivateaccesskey": site.store.token_for(caller.id, "private")[:32],
        "siteid": SITE_COURSE,
        "sitecalendartype": "gregorian",
        "usercalendartype": "gregorian",
        "userissiteadmin": caller.is_admin,
        "theme": "boost",
        "limitconcurrentlogins": 0,
        "policyagreed": 0,
    }
