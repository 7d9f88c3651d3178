"""Records the gateway's calls to a real Elgg 5.1.11 running the project's plugin
(`integrations/elgg/legacygraph/`), as the other corpora are recorded.

The real site is the one the real-site setup builds (`setup.sh`, then `moredata.php` here, with
the plugin copied to `mod/legacygraph` and activated). The gateway runs in process; every request
it sends to the site, and the site's answer, is one line of `exchanges.jsonl` (tokens, the API
key and signatures redacted, lengths kept); every GraphQL operation, its answer and its upstream
cost is one line of `graph.jsonl`; `ids.json` has the site's ids.

usage (from the repository root):
    .venv/bin/python tests/recordings/elgg-5.1.11/setup/record.py http://127.0.0.1:9260 <ids.env>
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

from graph.config import Settings
from graph.schema.ids import GlobalId
from graph.server.app import create_app
from graph.server.health import ping
from graph.sources.elgg.settings import ElggSettings
from graph.sources.sections import SourcesSettings

HERE = Path(__file__).resolve().parent.parent
PASSWORD = "Pass-word-1"
SECRETS = {"auth_token": "<token>"}


class Recorder(httpx.AsyncBaseTransport):
    """Sends each request to the real site and keeps it with the answer, redacted."""

    def __init__(self, api_key: str) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.api_key = api_key
        self.tokens: dict[str, str] = {}
        self.exchanges: list[dict[str, Any]] = []
        self.case = ""
        self.role = ""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        redacted: list[dict[str, Any]] = []
        params = dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))
        form = dict(parse_qsl(body.decode(), keep_blank_values=True)) if body else {}
        user = self.tokens.get(params.get("auth_token") or form.get("auth_token") or "", "")
        for where, fields in (("params", params), ("body", form)):
            for key in ("auth_token",):
                if key in fields:
                    redacted.append({"in": where, "field": key, "length": len(fields[key])})
                    fields[key] = "<token>"
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-elgg")}
        headers = {_title(k): v for k, v in headers.items()}
        for key, mark in (("X-Elgg-Apikey", "<key>"), ("X-Elgg-Hmac", "<hmac>")):
            if key in headers:
                redacted.append({"in": "headers", "field": key, "length": len(headers[key])})
                headers[key] = mark
        if "content-type" in request.headers:
            headers["Content-Type"] = request.headers["content-type"]
        answer: Any = json.loads(content) if content.strip().startswith(b"{") else content.decode()
        method = params.get("method", "")
        if method == "auth.gettoken" and isinstance(answer, dict) and answer.get("status") == 0:
            token = answer["result"]
            self.tokens[token] = form.get("username", "")
            redacted.append({"in": "response", "field": "result", "length": len(token)})
            answer = {**answer, "result": "<token>"}
        self.exchanges.append(
            {
                "seq": len(self.exchanges) + 1,
                "as": self.role,
                "user": user or (form.get("username") if method == "auth.gettoken" else ""),
                "case": self.case,
                "method": request.method,
                "path": request.url.path,
                "elgg_method": method,
                "params": params,
                "body": form or None,
                "headers": headers,
                "http_status": response.status_code,
                "content_type": response.headers.get("content-type"),
                "date": response.headers.get("date"),
                "response": answer,
                "redacted": redacted,
            }
        )
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )


def _title(name: str) -> str:
    return "-".join(part.capitalize() if part != "elgg" else "Elgg" for part in name.split("-"))


def gid(type_name: str, upstream_id: int | str) -> str:
    return GlobalId("elgg", type_name, str(upstream_id)).encode()


def cases(ids: dict[str, str]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(case, user, operation, variables); the user's token goes with each but the logins."""
    board, volunteers = ids["BOARD_GUID"], ids["GROUP_GUID"]
    gardeners = ids["GARDENERS_GUID"]
    login = """mutation($u: String!, $p: String!) { login(source: ELGG, username: $u,
      password: $p) { token expiresAt } }"""
    members = """query($g: ID!) { group(id: $g) { name ... on ElggGroup { isOpen memberCount }
      members(first: 5) { totalCount nodes { username displayName } } } }"""
    activity = """query($g: ID!) { group(id: $g) { name ... on ElggGroup { activity(first: 5)
      { action summary objectTitle subject { username displayName } } } } }"""
    join = "mutation($g: ID!) { joinGroup(groupId: $g) { name memberCount } }"
    return [
        ("login", "alice", login, {"u": "alice", "p": PASSWORD}),
        ("login", "bobby", login, {"u": "bobby", "p": PASSWORD}),
        ("login with a wrong password", "bobby", login, {"u": "bobby", "p": "wrong"}),
        (
            "viewer and their groups (two pages)",
            "bobby",
            "{ viewer { elgg { username displayName email location groups { name } } } }",
            {},
        ),
        ("a closed group's members, as a member", "alice", members, {"g": gid("ElggGroup", board)}),
        (
            "a closed group's members, as someone else",
            "bobby",
            members,
            {"g": gid("ElggGroup", board)},
        ),
        ("an open group's members", "bobby", members, {"g": gid("ElggGroup", volunteers)}),
        (
            "the list of groups",
            "alice",
            "{ groups(source: ELGG, first: 3) { totalCount nodes { name memberCount } } }",
            {},
        ),
        ("joining an open group", "bobby", join, {"g": gid("ElggGroup", gardeners)}),
        ("joining a closed group", "bobby", join, {"g": gid("ElggGroup", board)}),
        ("a group's activity", "bobby", activity, {"g": gid("ElggGroup", gardeners)}),
        (
            "a person by e-mail, someone else",
            "bobby",
            'query { person(email: "alice@example.org") { elggUser { username displayName email } } }',
            {},
        ),
        (
            "a person by e-mail, nobody",
            "bobby",
            'query { person(email: "nobody@example.org") { elggUser { username } } }',
            {},
        ),
    ]


def read_ids(ids_file: str) -> dict[str, str]:
    """The setup's `ids.env` (`NAME=value` lines)."""
    lines = Path(ids_file).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


async def main(url: str, ids: dict[str, str]) -> None:
    recorder = Recorder(ids["API_KEY"])
    elgg = ElggSettings(url=url, api_key=ids["API_KEY"], secret=ids["API_SECRET"], cache_ttl_s=0)
    settings = Settings(sources=SourcesSettings(elgg=elgg))
    graph: list[dict[str, Any]] = []
    tokens: dict[str, str] = {}
    app = create_app(settings, transports={"elgg": recorder})
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            for case, user, query, variables in cases(ids):
                recorder.case, recorder.role = case, user
                before = len(recorder.exchanges)
                headers = {"X-Legacygraph-Trace": "1"}
                if not query.lstrip().startswith("mutation($u"):
                    headers["X-Elgg-Token"] = tokens[user]
                response = await client.post(
                    "/graphql", json={"query": query, "variables": variables}, headers=headers
                )
                body = response.json()
                login = (body.get("data") or {}).get("login")
                if login:
                    tokens[user] = login["token"]
                    login["token"] = "<token>"
                    login["expiresAt"] = "<time>"
                upstream = body.pop("extensions", {}).get("upstream", {}).get("elgg", {})
                if "password" in json.dumps(variables):
                    variables = {**variables, "p": "<password>"}
                graph.append(
                    {
                        "case": case,
                        "as": user,
                        "query": query,
                        "variables": variables,
                        "answer": body,
                        "requests": len(recorder.exchanges) - before,
                        "calls": [e["elgg_method"] for e in recorder.exchanges[before:]],
                        "upstream_reported": upstream.get("requests"),
                    }
                )
    for case, secret in (("ping", ids["API_SECRET"]), ("ping with a wrong secret", "0" * 40)):
        recorder.case, recorder.role = case, "gateway"
        before = len(recorder.exchanges)
        settings_ = ElggSettings(url=url, api_key=ids["API_KEY"], secret=secret)
        async with httpx.AsyncClient(transport=recorder) as client:
            try:
                line = await ping("elgg", settings_, client)
            except Exception as error:  # what the operator sees, recorded
                line = f"FAILED ({type(error).__name__}): {error}"
        graph.append(
            {
                "case": case,
                "as": "gateway",
                "ping": line,
                "requests": len(recorder.exchanges) - before,
                "calls": [e["elgg_method"] for e in recorder.exchanges[before:]],
            }
        )
    with (HERE / "exchanges.jsonl").open("w", encoding="utf-8") as out:
        for exchange in recorder.exchanges:
            out.write(json.dumps(exchange) + "\n")
    with (HERE / "graph.jsonl").open("w", encoding="utf-8") as out:
        for line in graph:
            out.write(json.dumps(line) + "\n")
    public = {k: int(v) for k, v in ids.items() if k.endswith("_GUID")}
    (HERE / "ids.json").write_text(json.dumps(public, indent=1) + "\n")
    for line in graph:
        print(f"{line['requests']:3} {line['case']}: {line['calls']}")
        print("    ", json.dumps(line.get("answer") or line.get("ping"))[:300])


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], read_ids(sys.argv[2])))
