"""Configuration: one TOML file plus `LEGACYGRAPH_<SECTION>__<KEY>` environment overrides.

Parsed once at start-up into small frozen dataclasses, by msgspec. Anything wrong (a missing
file, bad TOML, an unknown key, a value of the wrong type, a source URL that cannot be connected
to) raises `ConfigError` whose message is one line naming the file (or the environment variable),
the key and the problem; a secret's value is never in it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import tomllib
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec

from graph.server.persisted import read_persisted
from graph.sources import SOURCES
from graph.sources.sections import SourcesSettings

__all__ = [
    "CONFIG_ENV",
    "CacheSettings",
    "ConfigError",
    "CorsSettings",
    "FederationSettings",
    "GraphQLSettings",
    "IdempotencySettings",
    "LimitsSettings",
    "PeopleSettings",
    "PlaygroundSettings",
    "ServerSettings",
    "SessionSettings",
    "Settings",
    "TracingSettings",
    "load_settings",
    "secrets_in",
]

ENV_PREFIX = "LEGACYGRAPH_"
CONFIG_ENV = "LEGACYGRAPH_CONFIG"


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line for the operator."""


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    log_format: str = "text"
    """"text", or "json" for one JSON object a line (for a log collector)."""
    access_log: bool = True
    """One line per request; off where a proxy in front already logs every request (saves a
    little CPU per request; metrics are kept either way)."""
    workers: int = 1
    """Gateway processes on the one port (one per core; `serve --workers N` overrides)."""
    compression: bool = True
    """Answers compressed (br or gzip) for clients that accept it; off behind a proxy that
    compresses."""
    compression_min_bytes: int = 1024
    """Answers smaller than this are sent as they are (compressing them saves next to nothing)."""

    def check(self, where: str) -> None:
        if self.log_format not in ("text", "json"):
            raise ValueError(f"{where}.log_format: must be text or json, got {self.log_format!r}")
        if not 0 < self.port < 65536:
            raise ValueError(f"{where}.port: must be between 1 and 65535, got {self.port}")
        if not 1 <= self.workers <= 64:
            raise ValueError(f"{where}.workers: must be between 1 and 64, got {self.workers}")
        if self.compression_min_bytes < 0:
            raise ValueError(
                f"{where}.compression_min_bytes: must not be negative, got "
                f"{self.compression_min_bytes}"
            )


@dataclass(frozen=True)
class GraphQLSettings:
    default_page_size: int = 20
    """What `first` is when a query does not say."""
    max_page_size: int = 100
    """The cap on `first`; larger values are reduced to it."""
    persisted_queries: str = ""
    """A directory of `.graphql` files, each known by the SHA-256 of its text (APQ hashes), or
    a JSON manifest of id -> document (Apollo's persisted query manifest, or a plain object)."""
    persisted_only: bool = False
    """Run only those documents: any other query is refused (production mobile apps)."""
    batch_max: int = 0
    """The most operations one POST may carry as a JSON array (Apollo Client's BatchHttpLink);
    0, the default, refuses arrays."""

    def check(self, where: str) -> None:
        if self.persisted_queries:
            try:
                read_persisted(Path(self.persisted_queries))
            except ValueError as exc:
                raise ValueError(f"{where}.persisted_queries: {exc}") from None
        if self.persisted_only and not self.persisted_queries:
            raise ValueError(f"{where}.persisted_only: needs persisted_queries")
        if not 0 <= self.batch_max <= 100:
            raise ValueError(f"{where}.batch_max: must be between 0 and 100, got {self.batch_max}")
        if not 1 <= self.default_page_size <= self.max_page_size:
            raise ValueError(
                f"{where}: need 1 <= default_page_size <= max_page_size, got "
                f"{self.default_page_size} and {self.max_page_size}"
            )


@dataclass(frozen=True)
class LimitsSettings:
    """What a request may ask for, refused with QUERY_TOO_COMPLEX before any upstream call."""

    max_depth: int = 15
    max_aliases: int = 50
    max_fields: int = 1_000
    """Fields as the query runs (a fragment counts each time it is spread), before paging."""
    max_cost: int = 20_000
    """Estimated work: 1 per field with fields below it, times `first` below a connection."""
    max_tokens: int = 5_000
    """Names, punctuation and values in the document: a bound on parsing itself."""
    max_body_bytes: int = 100_000
    introspection: bool = True
    """Off in production if the schema should not be browsable by anyone who can reach it."""

    def check(self, where: str) -> None:
        limits = (self.max_depth, self.max_aliases, self.max_fields, self.max_cost, self.max_tokens)
        if min(*limits, self.max_body_bytes) < 1:
            raise ValueError(f"{where}: limits must be positive")


@dataclass(frozen=True)
class CacheSettings:
    """Where answers to reads are kept (every source's TTL is in its own section)."""

    url: str = field(default="", repr=False)
    """redis://… or rediss://… to share the cache between gateway processes; empty: in process."""
    secret: str = field(default="", repr=False)
    """Keys the hash of each caller's credential; processes sharing a Redis need the same one.
    Empty: a random secret per process (fine for the in-process cache)."""
    namespace: str = "legacygraph"
    """Prefix of every Redis key."""

    def check(self, where: str) -> None:
        if self.url and urlsplit(self.url).scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"{where}.url: must be a redis://, rediss:// or unix:// URL")
        if self.url and len(self.secret) < 16:
            raise ValueError(
                f"{where}.secret: a shared cache needs a secret of at least 16 characters"
            )


@dataclass(frozen=True)
class IdempotencySettings:
    """Mutations sent with an `Idempotency-Key` header are written once: the first answer is
    kept where the cache keeps answers (Redis with `[cache] url`, else in the process)."""

    ttl_s: int = 24 * 3600
    """How long a mutation's answer is kept for retries with its key."""
    wait_s: float = 10.0
    """How long a retry waits for the first request with its key while that one still runs on
    another replica, before it is answered 409 (in one process a retry waits until the end)."""
    running_s: int = 300
    """How long a replica's hold on a key lasts at most: a replica stopped mid-request lets its
    keys go after this."""

    def check(self, where: str) -> None:
        if self.ttl_s <= 0 or self.wait_s < 0:
            raise ValueError(f"{where}: ttl_s must be positive and wait_s not negative")
        if self.running_s <= self.wait_s:
            raise ValueError(f"{where}.running_s: must be longer than wait_s")


@dataclass(frozen=True)
class TracingSettings:
    """OpenTelemetry traces: one span per GraphQL operation and one per upstream request."""

    exporter: str = ""
    """Empty: no traces. `otlp`: OTLP over HTTP to `endpoint`. `console`: spans on stdout."""
    endpoint: str = "http://127.0.0.1:4318/v1/traces"
    service_name: str = "legacygraph"

    def check(self, where: str) -> None:
        if self.exporter not in ("", "otlp", "console"):
            raise ValueError(f"{where}.exporter: must be otlp, console or empty: {self.exporter!r}")
        needs = {"otlp": "opentelemetry.exporter.otlp.proto.http", "console": "opentelemetry.sdk"}
        if self.exporter and not _installed(needs[self.exporter]):
            raise ValueError(
                f"{where}.exporter: traces need the otel extra (pip install 'legacygraph[otel]')"
            )
        if self.exporter == "otlp" and urlsplit(self.endpoint).scheme not in ("http", "https"):
            raise ValueError(f"{where}.endpoint: must be an http(s) URL")


@dataclass(frozen=True)
class PlaygroundSettings:
    """The GraphiQL playground at `/playground/` (served from the gateway, nothing from outside)."""

    enabled: bool = True
    """Off in production if nobody should explore the graph from a browser."""
    examples: str = ""
    """A directory of `.graphql` files to list in the playground; empty: the ones shipped."""

    def check(self, where: str) -> None:
        if self.examples and not Path(self.examples).is_dir():
            raise ValueError(f"{where}.examples: {self.examples} is no directory")


@dataclass(frozen=True)
class FederationSettings:
    enabled: bool = False
    """Serve the schema as an Apollo Federation v2 subgraph (`_service`, `_entities`, `@key`)."""
    version: str = "2.9"
    """The Federation version the subgraph's `@link` names. 2.9, the default, is the highest that
    both Apollo's composition (Apollo Router, Apollo Gateway: 2.0 to 2.14) and The Guild's (Hive
    Gateway, Mesh: 2.0 to 2.9) accept; the subgraph uses nothing newer than `@key` (2.0)."""

    VERSIONS = tuple(f"2.{minor}" for minor in range(12))
    """The versions the subgraph can be served as (Strawberry's: 2.0 to 2.11)."""

    def check(self, where: str) -> None:
        if self.version not in self.VERSIONS:
            raise ValueError(
                f"{where}.version: {self.version!r} is not a Federation version the subgraph can "
                f"link: one of {', '.join(self.VERSIONS)}"
            )


@dataclass(frozen=True)
class PeopleSettings:
    fold_gmail: bool = False
    """Treat Gmail addresses with dots or a +tag as the same person (off: they are different)."""


@dataclass(frozen=True)
class SessionSettings:
    keys: tuple[str, ...] = field(default=(), repr=False)
    """Fernet keys for gateway session tokens, newest first; none: the feature is off."""
    ttl_s: int = 8 * 3600
    """How long a session token is accepted after it was issued."""
    rotation_grace_s: int = 24 * 3600
    """How long tokens made with an older key (any but the first) are still accepted."""

    def check(self, where: str) -> None:
        from cryptography.fernet import Fernet

        for index, key in enumerate(self.keys):
            try:
                Fernet(key)
            except ValueError:
                raise ValueError(
                    f"{where}.keys[{index}]: not a Fernet key (32 url-safe base64 bytes)"
                ) from None
        if self.ttl_s <= 0 or self.rotation_grace_s < 0:
            raise ValueError(f"{where}: ttl_s must be positive and rotation_grace_s not negative")


CORS_HEADERS = (
    "content-type",
    "authorization",
    *(spec.header.lower() for spec in SOURCES.values()),
    "x-legacygraph-trace",
    "idempotency-key",
)
"""The request headers a browser app may send by default: every source's caller header."""


@dataclass(frozen=True)
class CorsSettings:
    """Which other origins' browser apps may call the gateway (Starlette's `CORSMiddleware`
    names). No origin: same origin only, and preflights are not answered."""

    allow_origins: tuple[str, ...] = ()
    """Exact origins (`https://app.school.example`), or `*` for any (never with credentials)."""
    allow_origin_regex: str = ""
    """Origins matching this whole (`https://[a-z0-9-]+\\.school\\.example`), besides those."""
    allow_headers: tuple[str, ...] = CORS_HEADERS
    allow_credentials: bool = False
    """Cookies and HTTP authentication sent along: the gateway uses neither (tokens travel in
    headers), so this is rarely needed."""
    expose_headers: tuple[str, ...] = ("etag", "idempotent-replayed", "retry-after")
    """Response headers the app's script may read besides the safelisted ones (`Cache-Control`,
    `Content-Type`…): the tag for `If-None-Match`, a replayed mutation, when to try again."""
    max_age: int = 600
    """How long a browser may keep a preflight's answer (seconds; browsers cap it at 2 h-24 h)."""

    @property
    def enabled(self) -> bool:
        return bool(self.allow_origins or self.allow_origin_regex)

    def check(self, where: str) -> None:
        if "*" in self.allow_origins and self.allow_credentials:
            raise ValueError(
                f"{where}.allow_origins: `*` cannot go with allow_credentials = true (any site "
                "could act with the user's cookies); list the exact origins"
            )
        for origin in self.allow_origins:
            if origin != "*" and not _is_origin(origin):
                raise ValueError(
                    f"{where}.allow_origins: {origin!r} is not an origin: scheme://host[:port], "
                    "no path, no trailing slash (as browsers send it)"
                )
        if self.allow_origin_regex:
            try:
                re.compile(self.allow_origin_regex)
            except re.error as exc:
                raise ValueError(
                    f"{where}.allow_origin_regex: not a regular expression: {exc}"
                ) from None
        if self.max_age < 0:
            raise ValueError(f"{where}.max_age: must not be negative, got {self.max_age}")


def _is_origin(text: str) -> bool:
    """`scheme://host[:port]` exactly as a browser's `Origin` header holds it: lower case, no
    path, no user, no default port."""
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and text == f"{parts.scheme}://{parts.netloc}".lower()
        and port != {"http": 80, "https": 443}[parts.scheme]
    )


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    graphql: GraphQLSettings = field(default_factory=GraphQLSettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    sources: SourcesSettings = field(default_factory=SourcesSettings)
    people: PeopleSettings = field(default_factory=PeopleSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    idempotency: IdempotencySettings = field(default_factory=IdempotencySettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    tracing: TracingSettings = field(default_factory=TracingSettings)
    playground: PlaygroundSettings = field(default_factory=PlaygroundSettings)
    federation: FederationSettings = field(default_factory=FederationSettings)
    cors: CorsSettings = field(default_factory=CorsSettings)

    def check(self) -> None:
        """Each section's own checks, its keys named from the top (`sources.<name>.url`)."""
        for f in dataclasses.fields(self):
            section = getattr(self, f.name)
            if hasattr(section, "check"):
                section.check(f.name)


def secrets_in(settings: object) -> list[str]:
    """Every configured secret (the fields kept out of reprs), so logs can take them out."""
    found: list[str] = []
    for f in dataclasses.fields(settings):  # type: ignore[arg-type]
        value = getattr(settings, f.name)
        if dataclasses.is_dataclass(value):
            found.extend(secrets_in(value))
        elif not f.repr and isinstance(value, str) and value:
            found.append(value)
        elif not f.repr and isinstance(value, tuple):
            found.extend(v for v in value if isinstance(v, str) and v)
    return found


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the file (if any) and the environment overrides into `Settings`.

    msgspec reads the table into the settings classes; `_typed` first refuses keys no class has
    and reads each value as its field's type, so that a mistake names its key and what it holds.
    """
    environ = {} if environ is None else environ
    if path is None and environ.get(CONFIG_ENV):
        path = Path(environ[CONFIG_ENV])
    table = _read(path) if path is not None else {}
    in_file = set(_paths(table))
    overrides = _override(table, environ)
    try:
        settings = msgspec.convert(_typed(Settings, table, "", overrides), Settings)
        settings.check()
    except ValueError as exc:
        variable = _variable_for(str(exc).split(":", 1)[0], overrides, in_file)
        raise ConfigError(f"{variable or path or 'environment'}: {exc}") from None
    return settings


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _override(table: dict[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    """Puts each `LEGACYGRAPH_<SECTION>__<KEY>` into the table as its text; returns the dotted
    key each one set, with the variable's name."""
    overrides: dict[str, str] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        if "__" not in name:
            _check_separator(name)
            continue
        keys = name[len(ENV_PREFIX) :].lower().split("__")
        here = table
        for key in keys[:-1]:
            here = here.setdefault(key, {})
            if not isinstance(here, dict):
                raise ConfigError(
                    f"environment variable {name}: {'.'.join(keys)} overrides a value, not a table"
                )
        here[keys[-1]] = value
        overrides[".".join(keys)] = name
    return overrides


def _paths(table: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Every key of a TOML document, dotted, tables included."""
    for key, value in table.items():
        yield prefix + key
        if isinstance(value, dict):
            yield from _paths(value, f"{prefix}{key}.")


def _variable_for(key: str, overrides: Mapping[str, str], in_file: set[str]) -> str | None:
    """Names the variable where the key a mistake names came from the environment: the key
    itself, or a table that only the environment made."""
    if key in overrides:
        return f"environment variable {overrides[key]}"
    if key not in in_file:
        for dotted, name in overrides.items():
            if dotted.startswith(f"{key}."):
                return f"environment variable {name}"
    return None


def _check_separator(name: str) -> None:
    """`LEGACYGRAPH_SERVER_PORT` is a typo of `LEGACYGRAPH_SERVER__PORT`, not someone else's."""
    rest = name[len(ENV_PREFIX) :].lower()
    if any(rest.startswith(f"{f.name}_") for f in dataclasses.fields(Settings)):
        raise ConfigError(
            f"environment variable {name}: a section and its keys are separated by two "
            "underscores (LEGACYGRAPH_<SECTION>__<KEY>)"
        )


def _typed(cls: type[Any], table: object, where: str, from_env: Mapping[str, str]) -> Any:
    """The table with every value read as its field's type; a key the class lacks is refused.

    msgspec gives a dataclass no unknown keys and names a wrong value only in its own words, so
    the walk is ours and each value goes through `msgspec.convert` on its own.
    """
    if not isinstance(table, dict):
        raise ValueError(f"{where or 'top level'}: must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    typed = {}
    for key, value in table.items():
        here = f"{where}.{key}" if where else key
        if key not in fields:
            raise ValueError(f"{here}: unknown key")
        if (section := _section(hints[key])) is not None:
            typed[key] = _typed(section, value, here, from_env)
        else:
            secret = not fields[key].repr
            typed[key] = _value(hints[key], value, here, text=here in from_env, secret=secret)
    return typed


def _section(hint: Any) -> type[Any] | None:
    """The settings class a key holds (`X | None` for a source that may be absent), if any."""
    classes = [arg for arg in typing.get_args(hint) or (hint,) if dataclasses.is_dataclass(arg)]
    return typing.cast(type[Any], classes[0]) if classes else None


def _value(hint: Any, value: Any, where: str, *, text: bool, secret: bool) -> Any:
    """One value as `hint`: the file's exactly (TOML has types), the environment's text read as
    the type (`"8100"` an integer, `"a, b"` a list); a secret is not repeated in the message."""
    is_list = typing.get_origin(hint) is tuple
    try:
        if text and is_list:
            value = [item.strip() for item in value.split(",") if item.strip()]
        elif text and hint in _FROM_TEXT:
            value = _FROM_TEXT[hint](value)
        return msgspec.convert(value, hint)
    except (ValueError, msgspec.ValidationError):
        kind = "a list of strings" if is_list else _KINDS.get(hint, str(hint))
        raise ValueError(f"{where}: must be {kind}{'' if secret else f', got {value!r}'}") from None


def _boolean(text: str) -> bool:
    """An environment variable's boolean: true, 1 or yes; false, 0, no or nothing (any case)."""
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no", ""):
        return False
    raise ValueError(text)


_FROM_TEXT: dict[Any, Any] = {bool: _boolean, int: int, float: float}
"""How an environment variable's text becomes a number or boolean (`int("5.0")` is refused)."""
_KINDS = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
