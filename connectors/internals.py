"""What the connectors use of httpx beyond its public API, in one place.

httpx has no public way to make a response that is already read: `httpx.Response(content=...)`
reads its body back through the decoders and chunkers, which is a tenth of a small exchange on
the pipeline's direct path (`connectors/pipeline.py`, `read_response`). That one step is taken
here and nowhere else, and `tests/connectors/test_internals.py` checks that it still leaves a
response as httpx's public path leaves it, so that an httpx upgrade that changes it fails there
first, naming it. (Everything else the connectors ask of httpx and aiohttp goes through their
public APIs.) Written against the lock's httpx (requirements/*.txt: 0.28).
"""

from __future__ import annotations

import httpx

__all__ = ["leave_read"]


def leave_read(response: httpx.Response, body: bytes) -> httpx.Response:
    """`response`, made over `httpx.ByteStream(body)`, left as `Response.read()` leaves it: its
    content `body`, its stream consumed and closed. httpx keeps a read body as `_content`,
    which `Response.content` returns; `read()` would get it by running `body` through the
    decoders and the chunker (about 80,000 instructions of one Q2 query, bench.instructions)."""
    response._content = body
    response.is_stream_consumed = True
    response.is_closed = True
    return response
