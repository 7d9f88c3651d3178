"""The wire: PHP's reading of bracketed parameter names, and answers as JSON or as CiviCRM's XML."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

__all__ = ["as_json", "as_xml", "nest", "xml_fields"]


def nest(items: list[tuple[str, str]]) -> dict[str, Any]:
    """PHP's reading of bracketed names: `return[email]=1` → {"return": {"email": "1"}}."""
    root: dict[str, Any] = {}
    for name, value in items:
        keys = re.findall(r"[^\[\]]+", name) or [name]
        node = root
        for key in keys[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node[keys[-1]] = value
    return root


def as_json(body: Any) -> Response:
    # 3.2 sends JSON as text/javascript; v3 sites send application/json. Clients parse either.
    return Response(json.dumps(body), media_type="application/json")


def as_xml(body: Any, hierarchical: bool, v3: bool) -> Response:
    records: list[Any]
    if isinstance(body, list):
        records = body
    elif (
        hierarchical
        and isinstance(body, dict)
        and isinstance(body.get("values"), dict | list)
        and body.get("values")
    ):
        values = body["values"]
        records = list(values.values()) if isinstance(values, dict) else values
    elif (
        hierarchical
        and isinstance(body, dict)
        and "values" in body
        and not body.get("is_error")
        and body.get("count") == 0
    ):
        records = []
    else:
        records = [body]
    count = f' count="{len(records)}"' if v3 else ""
    inner = "".join(f"<Result>\n{xml_fields(r)}</Result>\n" for r in records)
    text = f'<?xml version="1.0"?>\n<ResultSet xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"{count}>\n{inner}</ResultSet>\n'
    return Response(text, media_type="text/xml")


def xml_fields(record: Mapping[str, Any]) -> str:
    """Fields as elements; a list's items named by their index, `<0>1</0>`, as CiviCRM writes
    them (fact 3: no XML parser accepts such a document)."""
    out = []
    for key, value in record.items():
        if isinstance(value, list):
            value = {str(i): item for i, item in enumerate(value)}
        if isinstance(value, dict):
            out.append(f"<{key}>\n{xml_fields(value)}</{key}>\n")
        else:
            out.append(f"<{key}>{html.escape(str(value))}</{key}>\n")
    return "".join(out)
