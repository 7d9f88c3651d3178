"""A content-encoded answer unpacked a piece at a time, never more than a cap.

httpx decodes a body by handing each chunk whole to zlib or brotli, and a chunk of a few
kilobytes may unpack to hundreds of megabytes (a gzip of zeros packs about 1000 to 1, brotli
far more). The pipeline's direct path (`Sending`, `connectors/pipeline.py`) has the whole
encoded body in hand; `unpack` decodes it as httpx would (the same encodings, in the same
order, the same `httpx.DecodingError`), with no step making more than `PIECE` bytes, and stops
as soon as the cap is passed: memory stays bounded by the cap, whatever the packing ratio.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence

import brotli
import httpx

__all__ = ["PIECE", "TooLarge", "encodings", "unpack"]

PIECE = 256 * 1024
"""The most one decompression step makes."""


class TooLarge(Exception):
    """The unpacked answer is longer than the cap."""


def encodings(raw_headers: Sequence[tuple[bytes, bytes]]) -> list[str]:
    """The answer's content codings httpx decodes, in the order they were applied (httpx
    skips the codings it does not know, as does `unpack`)."""
    found = []
    for name, value in raw_headers:
        if name.lower() == b"content-encoding":
            for coding in value.decode("latin-1").split(","):
                coding = coding.strip().lower()
                if coding in ("gzip", "deflate", "br"):
                    found.append(coding)
    return found


def unpack(body: bytes, codings: Sequence[str], max_bytes: int) -> bytes:
    """`body` decoded from `codings` (outermost last), or `TooLarge` once more than
    `max_bytes` have come out; `httpx.DecodingError` for a body that is not what it says."""
    pieces: Iterator[bytes] = iter((body,))
    for coding in reversed(codings):
        pieces = _unbrotli(pieces) if coding == "br" else _inflated(pieces, coding)
    out, size = [], 0
    for piece in pieces:
        size += len(piece)
        if size > max_bytes:
            raise TooLarge(max_bytes)
        out.append(piece)
    return b"".join(out)


def _inflated(pieces: Iterator[bytes], coding: str) -> Iterator[bytes]:
    """gzip, or deflate with or without its zlib wrapper (httpx tries the wrapper first)."""
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16 if coding == "gzip" else zlib.MAX_WBITS)
    first = coding == "deflate"
    try:
        for data in pieces:
            while True:
                try:
                    piece = decompressor.decompress(data, PIECE)
                except zlib.error:
                    if not first:
                        raise
                    decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
                    piece = decompressor.decompress(data, PIECE)
                first = False
                if piece:
                    yield piece
                data = decompressor.unconsumed_tail
                if not data and len(piece) < PIECE:
                    break
        yield decompressor.flush()
    except zlib.error as exc:
        raise httpx.DecodingError(str(exc)) from exc


def _unbrotli(pieces: Iterator[bytes]) -> Iterator[bytes]:
    decompressor = brotli.Decompressor()
    try:
        for data in pieces:
            if not data:
                continue
            yield decompressor.process(data, output_buffer_limit=PIECE)
            while not decompressor.can_accept_more_data():
                yield decompressor.process(b"", output_buffer_limit=PIECE)
    except brotli.error as exc:
        raise httpx.DecodingError(str(exc)) from exc
