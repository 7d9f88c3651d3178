"""Mutations written once: the `Idempotency-Key` request header (IETF HTTP APIs draft, "The
Idempotency-Key HTTP Header Field").

A mobile app on a flaky network sends a mutation again when its answer never came. With the same
`Idempotency-Key`, the retry is answered with the first request's answer (status, content type
and body, and `Idempotent-Replayed: true`) instead of being written again. The answer is kept per
caller (a keyed hash of every credential the request carries) and key, with a keyed digest of
what the request asks (each operation's document, variables and operation name): the same key
with another request is refused (422). Only answers of mutations that ran are kept, failed
upstream or not; a request error (nothing ran) is not, and may be sent again.

Answers are kept where the response cache keeps its answers: in this process, or in Redis with
`[cache] url` (sealed with the cache's `Sealer`), where every replica finds them. A retry that
comes while the first request is still running waits for it: in this process on the first
request's future; on another replica by polling Redis for up to `[idempotency] wait_s`, after
which it is answered `409 Conflict` (the draft's answer), to be sent again later.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from cachetools import TTLCache
from cryptography.exceptions import InvalidTag
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from connectors.memory import Recollection
from connectors.sealing import Sealer
from graph.schema.documents import operation_type
from graph.server.persisted import PersistedQueries, PersistedQueryError

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "IDEMPOTENCY_KEY",
    "MAX_KEY_LENGTH",
    "REPLAYED",
    "Idempotency",
    "KeptAnswer",
    "KeptAnswers",
    "LocalAnswers",
    "Ours",
    "RedisAnswers",
    "Refusal",
    "Running",
    "caller_of",
    "read_key",
]

log = logging.getLogger("legacygraph.idempotency")

IDEMPOTENCY_KEY = "idempotency-key"
REPLAYED = "idempotent-replayed"
MAX_KEY_LENGTH = 255


class Refusal(Exception):
    """The request cannot be run or answered as its key asks: answered with `status` and a
    GraphQL-shaped error of `code`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    def response(self) -> Response:
        error = {"message": str(self), "extensions": {"code": self.code}}
        headers = {"retry-after": "1"} if self.status in (409, 503) else None
        return JSONResponse({"errors": [error]}, status_code=self.status, headers=headers)


@dataclass(frozen=True)
class KeptAnswer:
    """The first answer to a key, as sent, and the digest of the request it answered."""

    fingerprint: str
    status: int
    content_type: str
    body: bytes

    def to_bytes(self) -> bytes:
        head = json.dumps([self.fingerprint, self.status, self.content_type]).encode()
        return head + b"\n" + self.body

    @classmethod
    def from_bytes(cls, kept: bytes) -> KeptAnswer:
        head, _, body = kept.partition(b"\n")
        fingerprint, status, content_type = json.loads(head)
        return cls(str(fingerprint), int(status), str(content_type), body)

    def replay(self) -> Response:
        headers = {"content-type": self.content_type, REPLAYED: "true"}
        return Response(self.body, status_code=self.status, headers=headers)


@dataclass(frozen=True)
class Ours:
    """This request holds the key: it runs, then keeps its answer or lets the key go."""

    token: str = ""
    """What the hold is known by in Redis (only its holder lets it go)."""


@dataclass(frozen=True)
class Running:
    """Another replica holds the key and has not answered yet."""

    fingerprint: str


class KeptAnswers(Protocol):
    """Where the first answer to each key is kept, and who holds a key while it runs."""

    async def claim(self, name: str, fingerprint: str) -> KeptAnswer | Ours | Running:
        """The answer kept for `name`; else the key held for this request (`Ours`), unless
        another holds it (`Running`). Raises `RedisError` when the store cannot be reached."""
        ...

    async def keep(self, name: str, held: Ours, answer: KeptAnswer) -> None: ...

    async def release(self, name: str, held: Ours) -> None: ...


class LocalAnswers:
    """In this process: at most `size` answers, each for `ttl_s` seconds (`timer` for tests).
    Holds need no record here: `Idempotency` runs one request per key at a time in a process."""

    def __init__(
        self, ttl_s: float, size: int = 10_000, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self._kept: TTLCache[str, KeptAnswer] = TTLCache(maxsize=size, ttl=ttl_s, timer=timer)

    async def claim(self, name: str, fingerprint: str) -> KeptAnswer | Ours | Running:
        return self._kept.get(name) or Ours()

    async def keep(self, name: str, held: Ours, answer: KeptAnswer) -> None:
        self._kept[name] = answer

    async def release(self, name: str, held: Ours) -> None:
        pass


CLAIM = """
local kept = redis.call('GET', KEYS[1])
if kept then return {'kept', kept} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'ours'} end
return {'running', redis.call('GET', KEYS[2]) or ''}
"""
KEEP = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisAnswers:
    """In Redis, shared by every replica with the same namespace and cache secret.

    Per key, two entries (one hash slot): the kept answer, sealed and bound to its name, for
    `ttl_s`; and, while the first request runs, its hold (`SET NX PX`: the request's digest and
    a random token), which lapses after `running_s` should its replica stop mid-request. Each
    step is one script, so a claim never misses an answer kept between two commands."""

    def __init__(
        self, redis: Redis, namespace: str, secret: bytes, *, ttl_s: float, running_s: float
    ) -> None:
        self.redis = redis
        self.namespace = namespace
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self.running_ms = max(1, int(running_s * 1000))
        self._seal = Sealer(secret, b"legacygraph idempotent answers")
        self._claim = redis.register_script(CLAIM)
        self._keep = redis.register_script(KEEP)
        self._release = redis.register_script(RELEASE)

    def _names(self, name: str) -> tuple[str, str]:
        kept = f"{self.namespace}:idempotency:{{{name}}}"
        return kept, f"{kept}:running"

    async def claim(self, name: str, fingerprint: str) -> KeptAnswer | Ours | Running:
        kept_name, running_name = self._names(name)
        token = f"{fingerprint}:{secrets.token_hex(8)}"
        outcome = await self._claim(keys=[kept_name, running_name], args=[token, self.running_ms])
        kind = outcome[0].decode() if isinstance(outcome[0], bytes) else str(outcome[0])
        if kind == "ours":
            return Ours(token)
        if kind == "running":
            holder = outcome[1].decode() if isinstance(outcome[1], bytes) else str(outcome[1])
            return Running(holder.partition(":")[0])
        try:
            return KeptAnswer.from_bytes(self._seal.open(outcome[1], kept_name.encode()))
        except (InvalidTag, ValueError):
            # Not ours to trust: run as if nothing were kept (the key is held for this request).
            log.warning("idempotency: an answer in Redis failed its check and was ignored")
            await self.redis.delete(kept_name)
            return await self.claim(name, fingerprint)

    async def keep(self, name: str, held: Ours, answer: KeptAnswer) -> None:
        kept_name, running_name = self._names(name)
        sealed = self._seal.seal(answer.to_bytes(), kept_name.encode())
        await self._keep(keys=[kept_name, running_name], args=[sealed, self.ttl_ms, held.token])

    async def release(self, name: str, held: Ours) -> None:
        await self._release(keys=[self._names(name)[1]], args=[held.token])


Run = Callable[[Request], Awaitable[Response]]


def caller_of(tokens: Mapping[str, str], caller_key: Callable[[str, str], str]) -> str:
    """Who the request acts as: the keyed hashes the response cache keys each of its
    credentials by (`Gateway.caller_key`), together; never a credential."""
    return ",".join(sorted(caller_key(source, token) for source, token in tokens.items()))


class Idempotency:
    """Runs a keyed mutation once and answers its retries; see the module's docstring.

    `secret` keys the names answers are kept under and the digests of requests (the cache
    secret: replicas must agree). `clock` and `sleep` pace the wait for another replica."""

    def __init__(
        self,
        answers: KeptAnswers,
        secret: bytes,
        *,
        wait_s: float = 10.0,
        poll_s: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.answers = answers
        self.secret = secret
        self.wait_s = wait_s
        self.poll_s = poll_s
        self.clock = clock
        self.sleep = sleep
        self.flights: dict[str, asyncio.Future[None]] = {}
        """Keys whose request runs in this process: a retry waits on its future."""

    def _hash(self, purpose: str, text: str) -> str:
        return hmac.new(self.secret, f"{purpose}\n{text}".encode(), hashlib.sha256).hexdigest()

    async def run_once(
        self,
        request: Request,
        run: Run,
        *,
        caller: str,
        persisted: PersistedQueries,
        learned: Recollection,
        max_tokens: int,
    ) -> Response:
        """`run(request)`, or the answer its key already has. `caller` is the keyed hash of
        the caller's credentials. A request without the header, not a POST, or with no mutation
        in it is only run; a malformed key on a mutation is refused (400)."""
        header = request.headers.get(IDEMPOTENCY_KEY)
        if header is None or request.method != "POST":
            return await run(request)
        asked = await _operations(await request.body(), persisted, learned, max_tokens)
        if asked is None:  # no mutation, or a request error that running will report
            return await run(request)
        try:
            key = read_key(header, len(request.headers.getlist(IDEMPOTENCY_KEY)))
        except Refusal as refusal:
            return refusal.response()
        name = self._hash("key", f"{caller}\n{key}")
        return await self.answer(name, self._hash("request", asked), lambda: run(request))

    async def answer(
        self, name: str, fingerprint: str, run: Callable[[], Awaitable[Response]]
    ) -> Response:
        """The answer kept under `name`, or `run()`'s, kept there (by the one request of this
        process that holds `name`; the others wait for it); or why it can be neither."""
        try:
            return await self._answer(name, fingerprint, run)
        except Refusal as refusal:
            return refusal.response()

    async def _answer(
        self, name: str, fingerprint: str, run: Callable[[], Awaitable[Response]]
    ) -> Response:
        while (flight := self.flights.get(name)) is not None:
            await asyncio.shield(flight)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.flights[name] = done
        try:
            claim = await self._claim(name, fingerprint)
            if isinstance(claim, KeptAnswer):
                if claim.fingerprint != fingerprint:
                    raise _reused()
                return claim.replay()
            try:
                response = await run()
            except BaseException:
                await self._let_go(name, claim)
                raise
            kept = _kept_answer(response, fingerprint)
            if kept is None:
                await self._let_go(name, claim)
            else:
                try:
                    await self.answers.keep(name, claim, kept)
                except RedisError as exc:
                    log.warning("idempotency: Redis unavailable (%s), answer not kept", _name(exc))
            return response
        finally:
            del self.flights[name]
            done.set_result(None)

    async def _claim(self, name: str, fingerprint: str) -> KeptAnswer | Ours:
        """The kept answer or the key, waiting up to `wait_s` for another replica's request."""
        deadline = self.clock() + self.wait_s
        while True:
            try:
                claim = await self.answers.claim(name, fingerprint)
            except RedisError as exc:
                log.warning("idempotency: Redis unavailable (%s), mutation refused", _name(exc))
                raise Refusal(
                    503,
                    "IDEMPOTENCY_UNAVAILABLE",
                    "The gateway cannot check this Idempotency-Key now; send the request again",
                ) from None
            if not isinstance(claim, Running):
                return claim
            if claim.fingerprint != fingerprint:
                raise _reused()
            if self.clock() >= deadline:
                raise Refusal(
                    409,
                    "IDEMPOTENCY_KEY_IN_USE",
                    "A request with this Idempotency-Key is still running; send it again later",
                )
            await self.sleep(self.poll_s)

    async def _let_go(self, name: str, held: Ours) -> None:
        try:
            await self.answers.release(name, held)
        except RedisError as exc:
            log.warning("idempotency: Redis unavailable (%s), key held until it lapses", _name(exc))


def _name(exc: BaseException) -> str:
    return type(exc).__name__


def _reused() -> Refusal:
    return Refusal(
        422,
        "IDEMPOTENCY_KEY_REUSED",
        "This Idempotency-Key was sent with another request: use a new key for a new request",
    )


def read_key(value: str, count: int = 1) -> str:
    """The key of an `Idempotency-Key` header: an sf-string (`"…"`, as the draft writes it) or
    the bare text many clients send; printable ASCII, 1 to 255 characters."""
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if count != 1:
        problem = "must be sent once"
    elif not text:
        problem = "is empty"
    elif len(text) > MAX_KEY_LENGTH:
        problem = f"is longer than {MAX_KEY_LENGTH} characters"
    elif not all(" " <= c <= "~" for c in text):
        problem = "must be printable ASCII"
    else:
        return text
    raise Refusal(400, "IDEMPOTENCY_KEY_INVALID", f"The Idempotency-Key header {problem}")


async def _operations(
    body: bytes, persisted: PersistedQueries, learned: Recollection, max_tokens: int
) -> str | None:
    """What the body asks, canonical (each operation's document, variables and name), when it
    holds a mutation; None when it holds none, or is not a request that can run (which running
    it reports)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    operations = data if isinstance(data, list) else [data]
    asked: list[list[Any]] = []
    mutation = False
    for operation in operations:
        if not isinstance(operation, Mapping):
            return None
        query, extensions = operation.get("query"), operation.get("extensions")
        name = operation.get("operationName")
        if not isinstance(query, str | None) or not isinstance(extensions, Mapping | None):
            return None
        try:
            document = await persisted.resolve(query, dict(extensions or {}), learned)
        except PersistedQueryError:
            return None
        if not isinstance(name, str | None):
            return None
        kind = operation_type(document, name, max_tokens=max_tokens)
        if kind is None:
            return None
        mutation = mutation or kind == "mutation"
        asked.append([document, operation.get("variables") or {}, name])
    if not mutation:
        return None
    return json.dumps(asked, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _kept_answer(response: Response, fingerprint: str) -> KeptAnswer | None:
    """The answer to keep, if the mutation ran: a body with a `data` entry, null or not (in a
    batch, any of its answers). A request error has none: nothing ran, and a retry may run it."""
    body = getattr(response, "body", None)
    if not isinstance(body, bytes):
        return None
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    answers = answer if isinstance(answer, list) else [answer]
    if not any(isinstance(a, dict) and "data" in a for a in answers):
        return None
    content_type = response.headers.get("content-type", "application/json")
    return KeptAnswer(fingerprint, response.status_code, content_type, body)
