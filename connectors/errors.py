"""The one error hierarchy every connector raises.

Each class names what went wrong in terms a caller can act on; the graph maps the class to an
`extensions.code` in one place. Messages never contain credentials.
"""

from __future__ import annotations

__all__ = [
    "BadRequest",
    "Conflict",
    "Forbidden",
    "NotFound",
    "ProtocolError",
    "Unauthenticated",
    "Unavailable",
    "UpstreamError",
    "UpstreamTimeout",
]


class UpstreamError(Exception):
    """A legacy system refused, failed or answered something we cannot use.

    `source` is the system ("flarum", "moodle", ...), `message` is safe to show to the caller
    (the upstream's own words where they are safe), `upstream_code` is the system's own error code
    when it gave one, and `field` names the input field a validation error is about.
    """

    kind = "internal"

    def __init__(
        self,
        source: str,
        message: str,
        *,
        upstream_code: str | None = None,
        status: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.source = source
        self.message = message
        self.upstream_code = upstream_code
        self.status = status
        self.field = field

    def __repr__(self) -> str:
        return f"{type(self).__name__}(source={self.source!r}, message={self.message!r})"


class Unauthenticated(UpstreamError):
    """No valid identity: bad credentials at login, or a write attempted as a guest."""

    kind = "unauthenticated"


class Forbidden(UpstreamError):
    """The identity is known but not allowed to do this."""

    kind = "forbidden"


class NotFound(UpstreamError):
    """The thing does not exist, or the caller may not know that it does."""

    kind = "not_found"


class BadRequest(UpstreamError):
    """The upstream rejected the input (validation, unknown parameter)."""

    kind = "bad_request"


class Conflict(UpstreamError):
    """The write did not go as asked because of the record's state: a duplicate exists, or
    someone else changed the record between the write and its read-back."""

    kind = "conflict"


class Unavailable(UpstreamError):
    """The upstream could not be reached, failed (5xx) or asked us to slow down."""

    kind = "unavailable"


class UpstreamTimeout(UpstreamError):
    """The upstream did not answer in time."""

    kind = "timeout"


class ProtocolError(UpstreamError):
    """The upstream answered, but not in its protocol (HTML, XML, invalid JSON, wrong shape)."""

    kind = "protocol"
