"""Logs as text or as one JSON object a line, with every credential taken out either way.

The gateway never logs a credential on purpose; redaction is the second line: the configured
secrets by value, and anything in the shape of a credential in a URL, a form or a header.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime

__all__ = ["JsonFormatter", "Redactor", "configure_logging"]

REDACTED = "[redacted]"
CREDENTIAL_SHAPES = re.compile(
    r"(?i)((?:wstoken|api_key|auth_token|token|key|password|secret|session)=)[^&\s\"']+"
    r"|((?:Token|Bearer)\s+)[A-Za-z0-9._~+/=-]+"
)
FIELDS = ("method", "path", "operation", "status", "ms", "upstream", "cached", "source", "code")
"""Extra attributes a log call may give (`extra=`), copied into the JSON object."""


class Redactor(logging.Filter):
    """Takes credentials out of each record's message (and its exception text) before output."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return CREDENTIAL_SHAPES.sub(lambda m: (m[1] or m[2]) + REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the known extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)


def configure_logging(style: str = "text", secrets: Iterable[str] = ()) -> None:
    """Log to stderr at INFO, as `style` ("text" or "json"), redacting `secrets` and shapes."""
    handler = logging.StreamHandler()
    handler.addFilter(Redactor(secrets))
    handler.setFormatter(
        JsonFormatter()
        if style == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    # httpx logs every upstream URL at INFO, and some legacy protocols carry the caller's token
    # in the URL: the gateway's own access log says what happened instead.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
