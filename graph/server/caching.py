"""What HTTP caches and apps may do with an answer: `Cache-Control`, `Vary` and `ETag`.

An answer may be kept as long as the shortest-lived part of it: the smallest response-cache TTL
among the upstream reads it was made of (`[sources.<name>] cache_ttl_s`, `cache_ttl_by_call`).
It is `private` (a browser or an app may keep it, a shared cache may not), unless no credential
was sent and every source in it allows guests' answers to be shared (`public_max_age_s`).
Mutations, answers with errors, cost reports and answers no source's cache covers are
`no-store`. A GET's answer carries an `ETag` (a hash of its bytes); a client that sends it back
in `If-None-Match` gets `304 Not Modified` without the body. The answer is still made (mostly
from the gateway's response cache): a 304 saves the bytes on the wire, not the work.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response

from graph.context import Context
from graph.credentials import CALLER_HEADERS
from graph.schema.tracing import TRACE_HEADER

__all__ = ["NO_STORE", "VARY", "cache_control", "described", "etag_of", "matching"]

NO_STORE = "no-store"
VARY = ", ".join(["Accept", "Authorization", *sorted(set(CALLER_HEADERS.values())), TRACE_HEADER])
"""The request headers that change an answer: the media type, the caller's credentials (a
gateway session, each source's own header) and the cost report. Compression adds its own."""
KEPT_ON_304 = ("cache-control", "etag", "vary", "content-location", "date", "expires")


def cache_control(context: Context, *, guest: bool) -> str:
    """How long the answer to a query (without errors) made in `context` may be kept, and by
    whom. `guest`: the caller sent no credential at all."""
    stats = context.stats
    cached_sources = {source for source, _ in stats.cached_calls}
    used = set(stats.requests) | cached_sources
    if not used or context.traced:  # nothing says how long it holds; a report of this request
        return NO_STORE
    configured = context.settings.sources.configured()
    if guest:
        public = min(configured[source].public_max_age_s for source in used)
        if public >= 1:
            return f"public, max-age={int(public)}"
    if used - cached_sources:  # a source answered without its response cache
        return NO_STORE
    caches = context.gateway.caches
    max_age = int(min(caches[source].ttl_for(call) for source, call in stats.cached_calls))
    return f"private, max-age={max_age}" if max_age >= 1 else NO_STORE


def etag_of(body: bytes) -> str:
    """A strong validator: the same bytes, the same tag."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def matching(if_none_match: str, etag: str) -> str | None:
    """The tag of `If-None-Match` that names `etag`, as the client wrote it, or None. The
    comparison is the weak one RFC 9110 asks for here: the client may hold the tag as a
    compressed answer carried it (weak, `W/"…"`), and the 304 gives it back the same."""
    wanted = etag.removeprefix("W/")
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*":
            return etag
        if tag.removeprefix("W/") == wanted:
            return tag
    return None


def described(request: Request, response: Response, context: Context | None) -> Response:
    """`response` with its caching headers. `context` is the request's when the answer is a
    query's without errors, else None (`no-store`). A GET whose `If-None-Match` names the
    answer's tag gets `304 Not Modified` with the same headers and no body."""
    response.headers["vary"] = VARY
    fresh = response.status_code == 200 and context is not None
    if not fresh or context is None:
        response.headers["cache-control"] = NO_STORE
        return response
    guest = not context.credentials.tokens and "authorization" not in request.headers
    policy = cache_control(context, guest=guest)
    response.headers["cache-control"] = policy
    if request.method != "GET" or policy == NO_STORE:
        return response
    etag = etag_of(bytes(response.body))
    response.headers["etag"] = etag
    held = matching(request.headers.get("if-none-match", ""), etag)
    if held is None:
        return response
    kept = {k: v for k, v in response.headers.items() if k in KEPT_ON_304}
    return Response(status_code=304, headers={**kept, "etag": held})
