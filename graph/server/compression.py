"""Compressed answers: brotli or gzip, as the client's `Accept-Encoding` prefers.

Built on Starlette's GZip responder, which already knows when not to compress (a small answer,
one already encoded, a partial one, images and other compressed types) and how to stream (each
chunk flushed as it goes); brotli is Google's own binding. An answer that gets compressed says
`Vary: Accept-Encoding`, and a strong `ETag` on it becomes weak: the bytes are not the same
representation's any more, though the content is.
"""

from __future__ import annotations

import anyio.to_thread
import brotli
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.config import ServerSettings
from graph.internals import GZipResponder, IdentityResponder
from graph.server.media import weighted

__all__ = [
    "BROTLI_QUALITY",
    "GZIP_LEVEL",
    "BrotliResponder",
    "Compress",
    "chosen_encoding",
    "compression_middleware",
]

GZIP_LEVEL = 6
"""zlib's default: level 9 costs about twice the time for a percent or two on JSON."""
BROTLI_QUALITY = 5
"""A quality for answers made per request (11 is for files compressed once)."""
IN_A_THREAD = 128 * 1024
"""Chunks at least this large are compressed off the event loop (as Starlette does for gzip)."""
PREFERENCE = ("br", "gzip")
"""Ours, best first, where the client accepts several equally."""


def chosen_encoding(accept_encoding: str) -> str | None:
    """The coding to answer with: the client's most wanted of ours (a `q` of 0 refuses one;
    `*` stands for the codings it does not name), ties broken by our preference."""
    wanted = dict(weighted(accept_encoding))
    best: tuple[float, int, str] | None = None
    for rank, coding in enumerate(PREFERENCE):
        q = wanted.get(coding, wanted.get("*", 0.0))
        if q > 0 and (best is None or (q, -rank) > best[:2]):
            best = (q, -rank, coding)
    return best[2] if best else None


class BrotliResponder(IdentityResponder):
    """Starlette's responder, with brotli: each chunk of a streamed answer flushed as it goes."""

    content_encoding = "br"

    def __init__(self, app: ASGIApp, minimum_size: int, quality: int = BROTLI_QUALITY) -> None:
        super().__init__(app, minimum_size)
        self.quality = quality
        self.compressor: brotli.Compressor | None = None

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        if len(body) >= IN_A_THREAD:
            return await anyio.to_thread.run_sync(self._compress, body, more_body)
        return self._compress(body, more_body)

    def _compress(self, body: bytes, more_body: bool) -> bytes:
        if self.compressor is None:
            self.compressor = brotli.Compressor(mode=brotli.MODE_TEXT, quality=self.quality)
        chunk: bytes = self.compressor.process(body)
        chunk += self.compressor.flush() if more_body else self.compressor.finish()
        return chunk


class Compress:
    """Compresses answers of at least `minimum_size` bytes for clients that accept br or gzip."""

    def __init__(self, app: ASGIApp, minimum_size: int) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        coding = chosen_encoding(Headers(scope=scope).get("accept-encoding", ""))
        if coding is None:
            await self.app(scope, receive, send)
            return
        responder: IdentityResponder
        if coding == "br":
            responder = BrotliResponder(self.app, self.minimum_size)
        else:
            responder = GZipResponder(self.app, self.minimum_size, compresslevel=GZIP_LEVEL)

        async def weaken_etag(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                etag = headers.get("etag")
                ours = "content-encoding" in headers and not responder.content_encoding_set
                if ours and etag and not etag.startswith("W/"):
                    headers["etag"] = f"W/{etag}"
            await send(message)

        await responder(scope, receive, weaken_etag)


def compression_middleware(settings: ServerSettings) -> list[Middleware]:
    """The compressing middleware, or none where `[server] compression` is off."""
    if not settings.compression:
        return []
    return [Middleware(Compress, minimum_size=settings.compression_min_bytes)]
