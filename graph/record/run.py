"""Run the fixed operations through the gateway against an operator's site as each given
caller, and write the redacted corpus (`legacygraph record`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from graph.config import Settings
from graph.record.operations import NEVER, OPERATIONS
from graph.record.redact import Redactor
from graph.record.transport import Exchange, RecordingTransport
from graph.server.app import create_app
from graph.sources import SOURCES

__all__ = ["record"]


class Refusing(httpx.AsyncBaseTransport):
    """Sends nothing that names one of `never` (a read that writes): answers 403 instead."""

    def __init__(self, inner: httpx.AsyncBaseTransport, never: tuple[str, ...]) -> None:
        self.inner = inner
        self.never = never

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        if any(name.encode() in body + request.url.query for name in self.never):
            return httpx.Response(
                403,
                json={
                    "exception": "refused",
                    "errorcode": "refused",
                    "message": "legacygraph record never sends this",
                },
            )
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def record(
    settings: Settings,
    source: str,
    callers: Mapping[str, str],
    out: Path,
    *,
    inner: httpx.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """Record `source` as each caller (role → token) into `out`; returns a summary (requests
    and bytes per file). `inner` replaces the network (tests)."""
    configured = settings.sources.configured()[source]
    network = inner or httpx.AsyncHTTPTransport(verify=configured.verify)
    transport = RecordingTransport(
        Refusing(network, NEVER.get(source, ())), {t: r for r, t in callers.items()}
    )
    app = create_app(settings, transports={source: transport})
    header = SOURCES[source].header
    cases: list[tuple[str, str, str, dict[str, Any], int, int]] = []
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway", timeout=600
        )
        async with client:
            for role, token in callers.items():
                for operation in OPERATIONS[source]:
                    start = len(transport.exchanges)
                    response = await client.post(
                        "/graphql", json={"query": operation.query}, headers={header: token}
                    )
                    answer = response.json()
                    cases.append(
                        (
                            operation.case,
                            role,
                            operation.query,
                            answer,
                            start,
                            len(transport.exchanges),
                        )
                    )
    redactor = Redactor(secrets=callers.values())
    lines: list[dict[str, Any]] = []
    case_of = {}
    for case, role, _, _, start, end in cases:
        for index in range(start, end):
            case_of[index] = (case, role)
    for index, exchange in enumerate(transport.exchanges):
        case, _ = case_of.get(index, ("", ""))
        lines.append(moodle_line(index + 1, exchange, case, redactor))
    for line in lines:  # requests name what answers held (an e-mail searched for)
        line["params"] = redactor.known(line["params"])
    graph = [
        {
            "case": case,
            "as": role,
            "query": query,
            "variables": {},
            "answer": redactor.known(answer),
            "requests": end - start,
        }
        for case, role, query, answer, start, end in cases
    ]
    out.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, at the end)
    written = {
        "exchanges.jsonl": write_lines(out / "exchanges.jsonl", lines),
        "graph.jsonl": write_lines(out / "graph.jsonl", graph),
    }
    about = {
        "source": source,
        "recorded": datetime.now(UTC).strftime("%Y-%m-%d"),
        "roles": list(callers),
        "exchanges": len(lines),
        "operations": len(graph),
        "redacted": "tokens and keys as <token>; e-mails, names, free text and URLs replaced "
        "consistently (kind-N); ids, numbers, dates and the system's vocabulary kept",
    }
    (out / "corpus.json").write_text(json.dumps(about, indent=1) + "\n", encoding="utf-8")
    return {**about, "bytes": written}


def moodle_line(seq: int, exchange: Exchange, case: str, redactor: Redactor) -> dict[str, Any]:
    """One line in the Moodle corpus format (`tests/recordings/moodle-4.5.6/`)."""
    form = dict(exchange.form)
    redacted = []
    if "wstoken" in form:
        redacted.append({"key": "wstoken", "length": len(form.pop("wstoken"))})
    function = form.get("wsfunction") or exchange.path.rsplit("/", 2)[-2:][-1]
    try:
        body: Any = json.loads(exchange.content)
    except ValueError:
        body = exchange.content.decode("utf-8", "replace")
    return {
        "seq": seq,
        "function": function,
        "as": exchange.role,
        "user": exchange.role,
        "case": case,
        "method": exchange.method,
        "params": form,
        "http_status": exchange.status,
        "content_type": exchange.content_type,
        "body": redactor.value(body),
        "redacted": redacted,
    }


def write_lines(path: Path, lines: list[dict[str, Any]]) -> int:
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return len(text.encode())
