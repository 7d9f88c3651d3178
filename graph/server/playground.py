"""The playground: GraphiQL, built ahead of time into `playground/dist/` and served from here,
with the saved examples listed at `/playground/examples.json` and the doctor's report for the
caller at `/playground/doctor.json` (graph/doctor/served.py).

The page loads nothing from outside the gateway: every URL in it is relative, and its
Content-Security-Policy lets the browser fetch from this origin only.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from graphql import OperationDefinitionNode, parse
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from graph.config import PlaygroundSettings
from graph.doctor.served import KeptReports, doctor_endpoint

__all__ = ["Example", "load_examples", "playground_routes"]

HERE = Path(str(resources.files("playground")))
"""The `playground` package: the repository's folder, or the installed package data."""
BUILT = HERE / "dist"
SHIPPED_EXAMPLES = HERE / "examples"
logger = logging.getLogger("legacygraph.playground")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # the editor sets style attributes as it lays out
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


@dataclass(frozen=True)
class Example:
    """One saved query: its file name, a title, what its leading comments say, the text, and
    the name of its (first) operation."""

    name: str
    title: str
    description: str
    query: str
    operation_name: str | None


def load_examples(directory: Path) -> list[Example]:
    examples = []
    for path in sorted(directory.glob("*.graphql")):
        text = path.read_text(encoding="utf-8")
        comments = []
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            comments.append(line.lstrip("#").strip())
        title = path.stem.replace("-", " ").capitalize()
        operations = [d for d in parse(text).definitions if isinstance(d, OperationDefinitionNode)]
        name = operations[0].name.value if operations and operations[0].name else None
        examples.append(Example(path.stem, title, " ".join(comments), text, name))
    return examples


class Guarded:
    """Static files with the page's security headers; hashed assets are cached for good."""

    def __init__(self, directory: Path) -> None:
        self.files = StaticFiles(directory=directory, html=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        immutable = scope["path"].split("/")[-2:-1] == ["assets"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                cache = b"public, max-age=31536000, immutable" if immutable else b"no-cache"
                message["headers"] = [
                    *message.get("headers", []),
                    *SECURITY_HEADERS,
                    (b"cache-control", cache),
                ]
            await send(message)

        await self.files(scope, receive, send_with_headers)


def playground_routes(
    settings: PlaygroundSettings, reports: KeptReports | None = None
) -> list[BaseRoute]:
    """The playground's routes, or none when it is off or was never built. `reports` keeps
    each caller's doctor report a while (tests give it a clock)."""
    if not settings.enabled:
        return []
    if not (BUILT / "index.html").is_file():
        logger.warning("the playground is not built (run `make playground`); /playground is off")
        return []
    examples = [
        {**asdict(e), "operationName": e.operation_name}
        for e in load_examples(Path(settings.examples or SHIPPED_EXAMPLES))
    ]

    async def to_playground(request: Request) -> Response:
        return RedirectResponse(f"{request.scope.get('root_path', '')}/playground/")

    async def list_examples(request: Request) -> Response:
        return JSONResponse(examples, headers={"cache-control": "no-cache"})

    return [
        Route("/playground", to_playground),
        Route("/playground/examples.json", list_examples),
        Route("/playground/doctor.json", doctor_endpoint(reports or KeptReports())),
        Mount("/playground", Guarded(BUILT)),
    ]
