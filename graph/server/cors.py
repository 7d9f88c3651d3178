"""Cross-origin requests from browser apps: Starlette's `CORSMiddleware`, stricter.

Two things differ from Starlette's: a preflight that is allowed is answered `204 No Content`,
and an origin (or a preflight) that is refused gets no `Access-Control-Allow-*` header at all,
only `Vary: Origin`, so that nothing in a refusal reads as a permission.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse, Response
from starlette.types import Message, Send

from graph.config import CorsSettings
from graph.internals import SAFELISTED_HEADERS, CORSMiddleware

__all__ = ["ALLOWED_METHODS", "Cors", "cors_middleware"]

ALLOWED_METHODS = ("GET", "POST")
"""What `/graphql` answers: queries by GET (persisted queries) and everything by POST."""

SAFELISTED = {name.lower() for name in SAFELISTED_HEADERS}
"""Request headers Starlette always allows (and names in its own spelling)."""
PREFLIGHT_VARY = (
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
    "Access-Control-Request-Private-Network"
)


class Cors(CORSMiddleware):
    """`CORSMiddleware` whose allowed preflights are 204 and whose refusals grant nothing."""

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code != 200:  # refused: the reason, and no permission of any kind
            return PlainTextResponse(
                bytes(answer.body).decode(), status_code=400, headers={"Vary": PREFLIGHT_VARY}
            )
        granted = {
            name: value
            for name, value in answer.headers.items()
            if name.startswith("access-control-") or name == "vary"
        }
        return Response(status_code=204, headers=granted)

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        origin = request_headers.get("origin")
        if (
            message["type"] == "http.response.start"
            and origin is not None
            and not self.is_allowed_origin(origin)
        ):
            # Starlette would still add the credentials and expose headers here.
            message.setdefault("headers", [])
            MutableHeaders(scope=message).add_vary_header("Origin")
            await send(message)
            return
        await super().send(message, send, request_headers)


def cors_middleware(settings: CorsSettings) -> list[Middleware]:
    """The CORS middleware, or none where no origin is allowed (same origin only)."""
    if not settings.enabled:
        return []
    return [
        Middleware(
            Cors,
            allow_origins=settings.allow_origins,
            allow_origin_regex=settings.allow_origin_regex or None,
            allow_methods=ALLOWED_METHODS,
            allow_headers=[h for h in settings.allow_headers if h.lower() not in SAFELISTED],
            allow_credentials=settings.allow_credentials,
            expose_headers=settings.expose_headers,
            max_age=settings.max_age,
        )
    ]
