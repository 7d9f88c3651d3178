"""A mutation sent with an `Idempotency-Key` is written once: retries get the first answer."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from starlette.responses import Response

from graph.idempotency import (
    Idempotency,
    KeptAnswer,
    LocalAnswers,
    Ours,
    RedisAnswers,
    Running,
    read_key,
)
from simulators.civicrm import api_key_of
from tests.conftest import Gateway, Simulator, free_port, running_gateway

STAFF = {"X-Civicrm-Api-Key": api_key_of("bea.abebe")}  # may add contacts
CREATE = "mutation($input: ContactInput!) { createContact(input: $input) { id displayName email } }"
JSON_OUT = "application/json"
GRAPHQL_OUT = "application/graphql-response+json"


def create_body(email: str, first_name: str = "Nia") -> dict[str, Any]:
    person = {"contactType": "INDIVIDUAL", "firstName": first_name, "lastName": "Obi"}
    return {"query": CREATE, "variables": {"input": {**person, "email": email}}}


def new_email() -> str:
    return f"nia.{uuid.uuid4().hex[:10]}@example.net"


def records(civicrm: Simulator, email: str) -> int:
    row = civicrm.app.state.store.one(
        "SELECT COUNT(*) AS n FROM contacts WHERE email = ?", (email,)
    )
    return int(row["n"])


def send(url: str, body: dict[str, Any], key: str | None, **headers: str) -> httpx.Response:
    if key is not None:
        headers["Idempotency-Key"] = key
    return httpx.post(f"{url}/graphql", json=body, headers={**STAFF, **headers}, timeout=30)


@pytest.fixture(scope="module")
def crm(flarum: Simulator, civicrm: Simulator) -> Iterator[Gateway]:
    with running_gateway(flarum.url, civicrm_url=civicrm.url) as gateway:
        yield gateway


@pytest.mark.parametrize("accept", [JSON_OUT, GRAPHQL_OUT])
def test_a_retried_create_is_one_record_upstream(
    crm: Gateway, civicrm: Simulator, accept: str
) -> None:
    email, key = new_email(), str(uuid.uuid4())
    civicrm.app.state.calls.reset()
    first = send(crm.url, create_body(email), key, Accept=accept)
    assert first.status_code == 200, first.text
    assert first.json()["data"]["createContact"]["email"] == email
    assert "idempotent-replayed" not in first.headers
    creates = civicrm.app.state.calls.snapshot()["Contact.create"]
    civicrm.counter.reset()
    retry = send(crm.url, create_body(email), f'"{key}"', Accept=accept)  # as an sf-string
    assert retry.headers["idempotent-replayed"] == "true"
    assert (retry.status_code, retry.content) == (first.status_code, first.content)
    assert retry.headers["content-type"] == first.headers["content-type"]
    assert first.headers["content-type"].startswith(accept)
    assert civicrm.counter.total == 0  # nothing asked upstream
    assert civicrm.app.state.calls.snapshot()["Contact.create"] == creates
    assert records(civicrm, email) == 1
    # Without the key, the same request is a new one: it goes upstream again.
    assert "idempotent-replayed" not in send(crm.url, create_body(email), None).headers
    assert civicrm.counter.total >= 1


def test_concurrent_requests_with_one_key_write_once(crm: Gateway, civicrm: Simulator) -> None:
    email, key = new_email(), str(uuid.uuid4())

    async def both() -> list[httpx.Response]:
        headers = {**STAFF, "Idempotency-Key": key}
        async with httpx.AsyncClient(base_url=crm.url, headers=headers, timeout=30) as client:
            body = create_body(email)
            return list(await asyncio.gather(*(client.post("/graphql", json=body) for _ in "ab")))

    one, two = asyncio.run(both())
    assert one.status_code == two.status_code == 200
    assert one.content == two.content
    assert "Nia Obi" in one.text
    assert sorted(r.headers.get("idempotent-replayed", "-") for r in (one, two)) == ["-", "true"]
    assert records(civicrm, email) == 1


def test_the_same_key_with_another_body_is_refused(crm: Gateway, civicrm: Simulator) -> None:
    email, key = new_email(), str(uuid.uuid4())
    assert send(crm.url, create_body(email), key).status_code == 200
    civicrm.counter.reset()
    other = send(crm.url, create_body(email, first_name="Noa"), key)
    assert other.status_code == 422
    assert other.json()["errors"][0]["extensions"] == {"code": "IDEMPOTENCY_KEY_REUSED"}
    assert "data" not in other.json()
    assert civicrm.counter.total == 0
    assert records(civicrm, email) == 1
    # Another operation name over the same document and variables is another request too.
    named = {**create_body(email), "query": "mutation Add" + CREATE[len("mutation") :]}
    named["operationName"] = "Add"
    assert send(crm.url, named, key).status_code == 422


@pytest.mark.parametrize(
    ("header", "problem"), [("", "is empty"), ("k" * 256, "longer than 255"), ('""', "is empty")]
)
def test_a_malformed_key_is_refused_before_anything_runs(
    crm: Gateway, civicrm: Simulator, header: str, problem: str
) -> None:
    email = new_email()
    civicrm.counter.reset()
    refused = send(crm.url, create_body(email), header)
    assert refused.status_code == 400
    error = refused.json()["errors"][0]
    assert (
        error["extensions"] == {"code": "IDEMPOTENCY_KEY_INVALID"} and problem in error["message"]
    )
    assert civicrm.counter.total == 0 and records(civicrm, email) == 0
    assert read_key("k" * 255) == "k" * 255


def test_queries_ignore_the_header(crm: Gateway, civicrm: Simulator) -> None:
    query = {"query": "{ contacts(first: 1) { nodes { displayName } } }"}
    for key in ("same-key", "same-key", ""):  # even a key that a mutation could not use
        answer = send(crm.url, query, key)
        assert answer.status_code == 200 and answer.json()["data"]["contacts"]["nodes"]
        assert "idempotent-replayed" not in answer.headers


def test_a_request_error_is_not_kept(crm: Gateway, civicrm: Simulator) -> None:
    email, key = new_email(), str(uuid.uuid4())
    broken = {"query": CREATE, "variables": {"input": {"firstName": 3}}}  # does not fit its type
    for _ in range(2):
        answer = send(crm.url, broken, key)
        assert "data" not in answer.json() and "idempotent-replayed" not in answer.headers
    # Nothing ran under the key, so it is free for the request the app meant.
    assert send(crm.url, create_body(email), key).status_code == 200
    assert records(civicrm, email) == 1


def test_a_mutation_that_failed_upstream_is_kept_as_it_happened(
    crm: Gateway, civicrm: Simulator
) -> None:
    member = civicrm.app.state.store.one(
        "SELECT api_key FROM contacts WHERE staff = 0 AND api_key IS NOT NULL ORDER BY id"
    )
    as_member = {"X-Civicrm-Api-Key": member["api_key"]}  # may not add contacts
    email, key = new_email(), str(uuid.uuid4())
    civicrm.counter.reset()
    first = send(crm.url, create_body(email), key, **as_member)
    body = first.json()
    assert body["data"] == {"createContact": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    upstream = civicrm.counter.total
    assert upstream >= 1
    retry = send(crm.url, create_body(email), key, **as_member)
    assert retry.headers["idempotent-replayed"] == "true" and retry.content == first.content
    assert civicrm.counter.total == upstream
    # The answer is the caller's: another caller with the same key and body is written anew.
    other = send(crm.url, create_body(email), key)
    assert "idempotent-replayed" not in other.headers
    assert other.json()["data"]["createContact"]["email"] == email


# The store and the wait, in process: no network, clocks injected.


def answer_of(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body).encode(), media_type=JSON_OUT)


def test_a_retry_in_the_same_process_waits_for_the_first() -> None:
    async def scenario() -> tuple[int, list[Response]]:
        idempotency = Idempotency(LocalAnswers(60), b"s" * 32)
        started, finish = asyncio.Event(), asyncio.Event()
        runs = 0

        async def run() -> Response:
            nonlocal runs
            runs += 1
            started.set()
            await finish.wait()
            return answer_of({"data": {"createContact": {"id": "1"}}})

        first = asyncio.ensure_future(idempotency.answer("k", "f", run))
        await started.wait()
        second = asyncio.ensure_future(idempotency.answer("k", "f", run))
        await asyncio.sleep(0)
        assert not second.done()  # waiting on the first, not running
        finish.set()
        return runs, list(await asyncio.gather(first, second))

    runs, (first, second) = asyncio.run(scenario())
    assert runs == 1
    assert first.body == second.body and second.headers["idempotent-replayed"] == "true"


def test_kept_answers_lapse_after_their_ttl() -> None:
    now = [0.0]
    answers = LocalAnswers(ttl_s=100, timer=lambda: now[0])
    kept = KeptAnswer("f", 200, JSON_OUT, b'{"data":{}}')

    async def scenario() -> tuple[object, object]:
        await answers.keep("k", Ours(), kept)
        now[0] = 99.0
        before = await answers.claim("k", "f")
        now[0] = 101.0
        return before, await answers.claim("k", "f")

    assert asyncio.run(scenario()) == (kept, Ours())


class Clock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += 1


def redis_answers(redis: Redis, namespace: str) -> RedisAnswers:
    return RedisAnswers(redis, namespace, b"s" * 32, ttl_s=3600, running_s=300)


def test_a_key_running_on_another_replica_is_waited_for_then_409(redis_url: str) -> None:
    async def scenario() -> tuple[Response, Response, Response]:
        namespace = f"t-{uuid.uuid4().hex}"
        async with Redis.from_url(redis_url) as redis:
            elsewhere = redis_answers(redis, namespace)
            held = await elsewhere.claim("k", "f")  # the other replica's request, running
            assert isinstance(held, Ours)
            assert await elsewhere.claim("k", "f") == Running("f")
            clock = Clock()
            here = Idempotency(
                redis_answers(redis, namespace), b"s" * 32, wait_s=2, clock=clock, sleep=clock.sleep
            )

            async def run() -> Response:
                raise AssertionError("the key is held elsewhere: nothing runs here")

            busy = await here.answer("k", "f", run)
            assert 2 <= clock.now < 2 + 0.05 * 2  # waited wait_s, polling on the injected clock
            polls = clock.slept
            reused = await here.answer("k", "another", run)
            assert clock.slept == polls  # refused at once: another request holds the key
            # The other replica answers while this one polls: its answer is replayed.
            kept = KeptAnswer("f", 200, JSON_OUT, b'{"data":{"ok":true}}')

            async def answered_meanwhile(seconds: float) -> None:
                await clock.sleep(seconds)
                await elsewhere.keep("k", held, kept)

            here.sleep = answered_meanwhile
            replayed = await here.answer("k", "f", run)
            return busy, reused, replayed

    busy, reused, replayed = asyncio.run(scenario())
    assert busy.status_code == 409 and busy.headers["retry-after"] == "1"
    assert json.loads(busy.body)["errors"][0]["extensions"] == {"code": "IDEMPOTENCY_KEY_IN_USE"}
    assert reused.status_code == 422
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.body == b'{"data":{"ok":true}}'


def test_what_redis_holds_is_sealed_and_names_no_key(redis_url: str) -> None:
    async def scenario() -> tuple[list[bytes], list[bytes]]:
        namespace = f"t-{uuid.uuid4().hex}"
        async with Redis.from_url(redis_url) as redis:
            answers = redis_answers(redis, namespace)
            idempotency = Idempotency(answers, b"s" * 32)
            name = idempotency._hash("key", "caller\nmy-secret-key")

            async def run() -> Response:
                return answer_of({"data": {"createContact": {"email": "nia@example.net"}}})

            await idempotency.answer(name, "f", run)
            names = sorted(await redis.keys(f"{namespace}:*"))
            return names, [await redis.get(n) for n in names]

    names, values = asyncio.run(scenario())
    assert len(names) == 1  # the answer; the hold was let go
    assert b"my-secret-key" not in names[0] and b"caller" not in names[0]
    assert b"nia@example.net" not in values[0] and b"createContact" not in values[0]


def test_without_redis_a_keyed_mutation_is_refused_rather_than_risked() -> None:
    async def scenario() -> tuple[Response, int]:
        runs = 0

        async def run() -> Response:
            nonlocal runs
            runs += 1
            return answer_of({"data": {}})

        async with Redis.from_url(f"redis://127.0.0.1:{free_port()}/0") as unreachable:
            idempotency = Idempotency(redis_answers(unreachable, "t"), b"s" * 32)
            return await idempotency.answer("k", "f", run), runs

    refused, runs = asyncio.run(scenario())
    assert runs == 0
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert json.loads(refused.body)["errors"][0]["extensions"] == {
        "code": "IDEMPOTENCY_UNAVAILABLE"
    }
