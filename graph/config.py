"""Configuration: one TOML file plus `LEGACYGRAPH_<SECTION>__<KEY>` environment overrides.

Parsed once at start-up into small frozen dataclasses. Anything wrong (a missing file, bad TOML,
an unknown key, a value of the wrong type, a URL that is not http(s)) raises `ConfigError` whose
message is one line naming the file, the key and the problem.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connectors.elgg import PROFILES, parse_override

from .persisted import read_persisted

__all__ = [
    "CacheSettings",
    "CivicrmSettings",
    "ConfigError",
    "ElggSettings",
    "EqsashSettings",
    "FlarumSettings",
    "GraphQLSettings",
    "LimitsSettings",
    "MoodleSettings",
    "PeopleSettings",
    "PlaygroundSettings",
    "ServerSettings",
    "SessionSettings",
    "Settings",
    "SourcesSettings",
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

    def check(self, where: str) -> None:
        if self.log_format not in ("text", "json"):
            raise ValueError(f"{where}.log_format: must be text or json, got {self.log_format!r}")
        if not 0 < self.port < 65536:
            raise ValueError(f"{where}.port: must be between 1 and 65535, got {self.port}")


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

    def check(self, where: str) -> None:
        if self.persisted_queries:
            try:
                read_persisted(Path(self.persisted_queries))
            except ValueError as exc:
                raise ValueError(f"{where}.persisted_queries: {exc}") from None
        if self.persisted_only and not self.persisted_queries:
            raise ValueError(f"{where}.persisted_only: needs persisted_queries")
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


@dataclass(frozen=True)
class SourceSettings:
    """What every source has: where it is and how hard the gateway may lean on it."""

    url: str = ""
    timeout_s: float = 10.0
    max_concurrency: int = 8
    max_response_bytes: int = 16 * 1024 * 1024
    """A larger answer from the source is refused (`UPSTREAM_PROTOCOL_ERROR`)."""
    read_retries: int = 1
    """Extra attempts for a read that could not connect or got 502/503/504 (with jitter)."""
    breaker_failures: int = 5
    """Failures in a row (unreachable, timeout, 5xx) that open the source's circuit breaker."""
    breaker_reset_s: float = 30.0
    """How long an open breaker fails fast before it lets a call through again."""
    allow_service_fallback: bool = False
    """Act as the configured service identity for callers who send no credential of their own."""
    cache_ttl_s: float = 30.0
    """How long a read's answer is reused for the same caller; 0 turns the cache off."""
    cache_ttl_by_call: tuple[str, ...] = ()
    """Per kind of call, as "call=seconds" (say "core_course_get_contents=300")."""

    def call_ttls(self) -> dict[str, float]:
        """`cache_ttl_by_call` read into call name -> seconds."""
        ttls = {}
        for entry in self.cache_ttl_by_call:
            call, _, seconds = entry.partition("=")
            ttls[call.strip()] = float(seconds)
        return ttls

    def check(self, where: str) -> None:
        if self.cache_ttl_s < 0:
            raise ValueError(f"{where}.cache_ttl_s: must not be negative, got {self.cache_ttl_s}")
        for entry in self.cache_ttl_by_call:
            call, _, seconds = entry.partition("=")
            try:
                if not call.strip() or float(seconds) < 0:
                    raise ValueError
            except ValueError:
                raise ValueError(
                    f"{where}.cache_ttl_by_call: {entry!r} is not call=seconds"
                ) from None
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{where}.url: must be an http(s) URL, got {self.url!r}")
        if self.timeout_s <= 0:
            raise ValueError(f"{where}.timeout_s: must be positive, got {self.timeout_s}")
        if self.max_concurrency < 1:
            raise ValueError(f"{where}.max_concurrency: must be at least 1")
        if self.max_response_bytes < 1024:
            raise ValueError(f"{where}.max_response_bytes: must be at least 1024")
        if self.read_retries < 0 or self.breaker_failures < 1 or self.breaker_reset_s <= 0:
            raise ValueError(
                f"{where}: read_retries >= 0, breaker_failures >= 1, breaker_reset_s > 0"
            )


@dataclass(frozen=True)
class FlarumSettings(SourceSettings):
    api_key: str = field(default="", repr=False)
    """Service API key, used only for callers who send no token and only with fallback allowed."""
    api_user_id: int = 0
    """The user the API key acts as (`Token <key>; userId=<id>`)."""

    def check(self, where: str) -> None:
        super().check(where)
        if self.allow_service_fallback and not (self.api_key and self.api_user_id > 0):
            raise ValueError(f"{where}: allow_service_fallback needs api_key and api_user_id")


@dataclass(frozen=True)
class MoodleSettings(SourceSettings):
    token: str = field(default="", repr=False)
    """Service token, used only for callers who send none and only with fallback allowed."""
    service: str = "moodle_mobile_app"
    """The external service `login` asks tokens for; the mobile one allows batched calls."""

    def check(self, where: str) -> None:
        super().check(where)
        if self.allow_service_fallback and not self.token:
            raise ValueError(f"{where}: allow_service_fallback needs token")


@dataclass(frozen=True)
class CivicrmSettings(SourceSettings):
    site_key: str = field(default="", repr=False)
    """The site's CIVICRM_SITE_KEY: a deployment secret the gateway holds, sent on every call."""
    api_key: str = field(default="", repr=False)
    """Service api_key, used only for callers who send none and only with fallback allowed."""
    rest_path: str = "/sites/all/modules/civicrm/extern/rest.php"
    api_style: str = "entity"
    """`entity` (API v3, batches with IN filters) or `q` (the 3.2-era `q=civicrm/...` form)."""

    def check(self, where: str) -> None:
        super().check(where)
        if not self.site_key:
            raise ValueError(f"{where}.site_key: CiviCRM needs its site key")
        if self.api_style not in ("entity", "q"):
            raise ValueError(f"{where}.api_style: must be 'entity' or 'q', got {self.api_style!r}")
        if not self.rest_path.startswith("/"):
            raise ValueError(f"{where}.rest_path: must start with /, got {self.rest_path!r}")
        if self.allow_service_fallback and not self.api_key:
            raise ValueError(f"{where}: allow_service_fallback needs api_key")


@dataclass(frozen=True)
class ElggSettings(SourceSettings):
    api_key: str = ""
    """The public key of the API key pair an Elgg admin created for the gateway."""
    secret: str = field(default="", repr=False)
    """Its secret: signs every request (HMAC), never sent."""
    hmac_algorithm: str = "sha256"
    hmac_variant: str = "standard"
    """`standard` (time, nonce, base64 signature) or `legacy` (Elgg 1.5/1.6: no nonce, hex)."""
    methods: str = "auto"
    """The site's method profile: `legacygraph`, `rest_api` (the elgg_with_rest_api plugin), or
    `auto`: the one whose methods `system.api.list` shows."""
    overrides: tuple[str, ...] = ()
    """`role=method` or `role=method(ours:theirs,...)` for sites with a plugin of their own."""

    def check(self, where: str) -> None:
        super().check(where)
        if not (self.api_key and self.secret):
            raise ValueError(f"{where}: Elgg needs api_key and secret")
        if self.methods != "auto" and self.methods not in PROFILES:
            raise ValueError(
                f"{where}.methods: one of auto, {', '.join(PROFILES)} (not {self.methods!r})"
            )
        for override in self.overrides:
            parse_override(override)  # raises with the reason
        if self.hmac_algorithm not in ("md5", "sha", "sha1", "sha256", "sha384", "sha512"):
            raise ValueError(
                f"{where}.hmac_algorithm: Elgg does not sign with {self.hmac_algorithm!r}"
            )
        if self.hmac_variant not in ("standard", "legacy"):
            raise ValueError(f"{where}.hmac_variant: must be 'standard' or 'legacy'")


@dataclass(frozen=True)
class EqsashSettings(SourceSettings):
    api_key: str = field(default="", repr=False)
    """The site's `api_key` from its settings.php (it authorises the gateway as a client)."""
    path: str = "/api/"
    session_name: str = "EQSASH_SESSION"
    callable: tuple[str, ...] = ()
    """`module.method` pairs that `Query.eqsashCall` may call; empty: the escape hatch is off."""
    get_methods: tuple[str, ...] = ()
    """`module.method` pairs sent by GET; every other call is a POST (tokens stay out of URLs)."""

    def check(self, where: str) -> None:
        super().check(where)
        if not self.api_key:
            raise ValueError(f"{where}.api_key: Eqsash needs the site's api_key")
        for pair in (*self.callable, *self.get_methods):
            module, _, method = pair.partition(".")
            if not (module and method):
                raise ValueError(f"{where}: {pair!r} is not a module.method pair")


@dataclass(frozen=True)
class SourcesSettings:
    flarum: FlarumSettings | None = None
    moodle: MoodleSettings | None = None
    civicrm: CivicrmSettings | None = None
    elgg: ElggSettings | None = None
    eqsash: EqsashSettings | None = None

    def configured(self) -> dict[str, SourceSettings]:
        return {
            f.name: value
            for f in dataclasses.fields(self)
            if (value := getattr(self, f.name)) is not None
        }


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    graphql: GraphQLSettings = field(default_factory=GraphQLSettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    sources: SourcesSettings = field(default_factory=SourcesSettings)
    people: PeopleSettings = field(default_factory=PeopleSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    tracing: TracingSettings = field(default_factory=TracingSettings)
    playground: PlaygroundSettings = field(default_factory=PlaygroundSettings)


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


class _FromEnv(str):
    """A value that came from the environment as text and still has to be read as its type."""


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the file (if any) and the environment overrides into `Settings`."""
    environ = {} if environ is None else environ
    if path is None and environ.get(CONFIG_ENV):
        path = Path(environ[CONFIG_ENV])
    origin = str(path) if path is not None else "environment"
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX) and "__" in name and name != CONFIG_ENV:
            keys = name[len(ENV_PREFIX) :].lower().split("__")
            table = raw
            for key in keys[:-1]:
                table = table.setdefault(key, {})
                if not isinstance(table, dict):
                    raise ConfigError(f"{name}: {'.'.join(keys)} overrides a value, not a table")
            table[keys[-1]] = _FromEnv(value)
    try:
        return _build(Settings, raw, "")
    except ValueError as exc:
        raise ConfigError(f"{origin}: {exc}") from None


def _build(cls: type[Any], table: Any, where: str) -> Any:
    if not isinstance(table, dict):
        raise ValueError(f"{where or 'top level'}: must be a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {}
    for key, value in table.items():
        here = f"{where}.{key}" if where else key
        if key not in fields:
            raise ValueError(f"{here}: unknown key")
        values[key] = _value(hints[key], value, here)
    try:
        built = cls(**values)
    except TypeError as exc:
        missing = str(exc).rsplit(":", 1)[-1].strip()
        raise ValueError(f"{where}: missing {missing}") from None
    if hasattr(built, "check"):
        built.check(where)
    return built


def _value(hint: Any, value: Any, where: str) -> Any:
    if isinstance(hint, types.UnionType):  # `X | None`: a section that may be absent
        (hint,) = (arg for arg in typing.get_args(hint) if arg is not type(None))
    if dataclasses.is_dataclass(hint):
        return _build(typing.cast(type, hint), value, where)
    if typing.get_origin(hint) is tuple:  # a list of strings; from the environment, comma-separated
        items = (
            [v.strip() for v in value.split(",") if v.strip()]
            if isinstance(value, _FromEnv)
            else value
        )
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ValueError(f"{where}: must be a list of strings, got {value!r}")
        return tuple(items)
    if isinstance(value, _FromEnv):
        return _from_text(hint, str(value), where)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is not hint:
        raise ValueError(f"{where}: must be {_type_name(hint)}, got {value!r}")
    return value


def _from_text(hint: Any, text: str, where: str) -> Any:
    try:
        if hint is bool:
            if text.lower() in ("true", "1", "yes"):
                return True
            if text.lower() in ("false", "0", "no", ""):
                return False
            raise ValueError
        return hint(text)
    except ValueError:
        raise ValueError(f"{where}: must be {_type_name(hint)}, got {text!r}") from None


def _type_name(hint: Any) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        hint, str(hint)
    )
