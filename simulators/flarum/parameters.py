"""Reading a request: `include` paths, the page window, the sort, the pagination links, a JSON
body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from .errors import ApiError

__all__ = ["PAGE_CAP", "PAGE_DEFAULT", "include_tree", "json_body", "links", "order", "window"]

PAGE_DEFAULT = 20
PAGE_CAP = 50


def include_tree(request: Request, allowed: set[str], default: tuple[str, ...]) -> dict[str, Any]:
    """The include paths as a tree; any path not allowed is 400 before anything else."""
    raw = request.query_params.get("include")
    paths = default if raw is None else tuple(p for p in raw.split(",") if p)
    tree: dict[str, Any] = {}
    for path in paths:
        if path not in allowed:
            raise ApiError(400, "invalid_parameter")
        node = tree
        for part in path.split("."):
            node = node.setdefault(part, {})
    return tree


def window(request: Request) -> tuple[int, int]:
    """`page[offset]` or `page[number]`, and `page[limit]` capped at 50 (0: the default)."""
    q = request.query_params
    try:
        limit = int(q.get("page[limit]", PAGE_DEFAULT)) or PAGE_DEFAULT
        if "page[number]" in q:
            offset = (int(q["page[number]"]) - 1) * min(limit, PAGE_CAP)
        else:
            offset = int(q.get("page[offset]", 0))
    except ValueError:
        raise ApiError(400, "invalid_parameter") from None
    if offset < 0 or limit < 0:
        raise ApiError(400, "invalid_parameter")
    return offset, min(limit, PAGE_CAP)


def order(request: Request, allowed: Mapping[str, str], default: str) -> str:
    clauses = []
    for field in (request.query_params.get("sort") or default).split(","):
        name = field.lstrip("-")
        if name not in allowed:
            raise ApiError(400, "invalid_parameter")
        clauses.append(f"{allowed[name]} {'DESC' if field.startswith('-') else 'ASC'}")
    return ", ".join(clauses)


def links(request: Request, offset: int, limit: int, more: bool) -> dict[str, str]:
    base = str(request.url.replace(query=""))
    params = {k: v for k, v in request.query_params.items() if k != "page[offset]"}

    def at(start: int) -> str:
        return base + "?" + urlencode({**params, **({"page[offset]": str(start)} if start else {})})

    found = {"first": at(0)}
    if offset > 0:
        found["prev"] = at(max(0, offset - limit))
    if more:
        found["next"] = at(offset + limit)
    return found


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "invalid_parameter") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_parameter")
    return body
