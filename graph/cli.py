"""The `legacygraph` command: serve, demo, export-schema, check-config, doctor, record.

Exit codes: 0 done, 1 a source failed its check or a port cannot be listened on, 2 a mistake in
the command line or the configuration (one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import errno
import os
import socket
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from pathlib import Path

import httpx
import uvicorn
from cryptography.fernet import Fernet

from connectors.errors import UpstreamError
from graph.config import (
    CONFIG_ENV,
    ConfigError,
    FederationSettings,
    Settings,
    load_settings,
    secrets_in,
)
from graph.server.health import ping
from graph.server.logs import configure_logging
from graph.sources import SOURCES
from graph.sources.sections import SourcesSettings

__all__ = ["main"]

SCHEMA_FILE = Path("schema.graphql")
"""Where `export-schema` writes, from the current directory (the repository's root for `make
schema`)."""

SIMULATOR_HOST = "127.0.0.1"
"""Where the demo's simulators listen (only the gateway's host is an option)."""


class CannotListen(Exception):
    """A port the command needs is taken (or not ours to listen on); the message is one line."""


def version() -> str:
    try:
        return installed_version("legacygraph")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "export-schema":
        from graph.schema.root import export_sdl

        federation = None
        if args.federation_version:
            federation = FederationSettings(enabled=True, version=args.federation_version)
        elif args.federation:
            try:
                configured = load_settings(args.config, os.environ).federation
            except ConfigError as error:
                return fail(str(error), 2)
            federation = dataclasses.replace(configured, enabled=True)
        args.output.write_text(export_sdl(federation=federation), encoding="utf-8")
        print(f"wrote {args.output}")
        return 0
    config: Path | None = getattr(args, "config", None)
    try:
        settings = load_settings(config, os.environ)
    except ConfigError as error:
        return fail(str(error), 2)
    if args.command == "demo":
        return demo(settings, args)
    if not settings.sources.configured():
        hint = "; `legacygraph demo` runs the gateway over the simulators"
        why = nothing_configured(config, os.environ)
        return fail(why + hint if args.command == "serve" else why, 2)
    if args.command == "check-config":
        return asyncio.run(check_config(settings))
    if args.command == "doctor":
        from graph.doctor.run import doctor, print_report

        callers: dict[str, list[str]] = {}
        for name, token in args.callers:
            callers.setdefault(name, []).append(token)
        report = asyncio.run(doctor(settings, callers))
        return print_report(report, as_json=args.json)
    if args.command == "record":
        return record_command(settings, args)
    server = dataclasses.replace(
        settings.server,
        host=args.host if args.host is not None else settings.server.host,
        port=args.port if args.port is not None else settings.server.port,
        workers=args.workers if args.workers is not None else settings.server.workers,
    )
    if server.workers > 1 and config is not None:  # each worker reads the configuration anew
        os.environ[CONFIG_ENV] = str(config.resolve())
    needs = [("the gateway", server.host, server.port, "--port or [server] port changes it")]
    return run(dataclasses.replace(settings, server=server), needs)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="legacygraph", description="One GraphQL API over legacy systems."
    )
    parser.add_argument("--version", action="version", version=f"legacygraph {version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the gateway over the configured sources")
    serve.add_argument("--config", type=Path, help="TOML file (default: $LEGACYGRAPH_CONFIG)")
    serve.add_argument("--host", help="where the gateway listens (default: [server] host)")
    serve.add_argument("--port", type=port_number, help="the gateway's port ([server] port)")
    serve.add_argument(
        "--workers", type=worker_count, help="gateway processes (default: [server] workers)"
    )
    demo = commands.add_parser("demo", help="run the simulators and the gateway over them")
    demo.add_argument("--host", help="where the gateway listens (default: [server] host)")
    demo.add_argument("--port", type=port_number, help="the gateway's port (default: 8000)")
    usual = ", ".join(f"{name} {spec.demo_port}" for name, spec in SOURCES.items())
    demo.add_argument(
        "--simulator-port",
        type=simulator_port,
        action="append",
        default=[],
        metavar="NAME=PORT",
        help=f"move one simulator (0: any free port; usual: {usual})",
    )
    export = commands.add_parser("export-schema", help="write the SDL")
    export.add_argument("--output", type=Path, default=SCHEMA_FILE)
    export.add_argument(
        "--federation", action="store_true", help="the Federation v2 subgraph's SDL instead"
    )
    export.add_argument(
        "--federation-version",
        choices=FederationSettings.VERSIONS,
        metavar="VERSION",
        help="the Federation version its @link names (implies --federation; default: the "
        "config's [federation] version)",
    )
    export.add_argument(
        "--config", type=Path, help="with --federation: TOML file (default: $LEGACYGRAPH_CONFIG)"
    )
    check = commands.add_parser("check-config", help="validate a config and ping every source")
    check.add_argument("--config", type=Path, help="TOML file (default: $LEGACYGRAPH_CONFIG)")
    doctor = commands.add_parser(
        "doctor", help="check, read-only, what will work on each configured source"
    )
    doctor.add_argument("--config", type=Path, help="TOML file (default: $LEGACYGRAPH_CONFIG)")
    doctor.add_argument(
        "--as",
        dest="callers",
        type=source_token,
        action="append",
        default=[],
        metavar="SOURCE=TOKEN",
        help="also check what this caller token may read and write (repeatable)",
    )
    doctor.add_argument("--json", action="store_true", help="the report as JSON (for CI)")
    record = commands.add_parser(
        "record", help="record the gateway's read-only calls to a site, redacted, as a corpus"
    )
    record.add_argument("--config", type=Path, help="TOML file (default: $LEGACYGRAPH_CONFIG)")
    record.add_argument("--source", required=True, choices=list(SOURCES))
    record.add_argument(
        "--as",
        dest="callers",
        type=role_token,
        action="append",
        required=True,
        metavar="ROLE=TOKEN",
        help="a caller to record as, named by its role (teacher=TOKEN; repeatable)",
    )
    record.add_argument("--out", type=Path, required=True, help="the corpus folder to write")
    return parser


def source_token(text: str) -> tuple[str, str]:
    name, _, token = text.partition("=")
    if name not in SOURCES or not token:
        raise argparse.ArgumentTypeError(
            f"must be SOURCE=TOKEN with SOURCE one of {', '.join(SOURCES)}"
        )
    return name, token


def role_token(text: str) -> tuple[str, str]:
    role, _, token = text.partition("=")
    if not role.isidentifier() or not token:
        raise argparse.ArgumentTypeError("must be ROLE=TOKEN, ROLE a word (teacher, student)")
    return role, token


def record_command(settings: Settings, args: argparse.Namespace) -> int:
    from graph.record.operations import OPERATIONS
    from graph.record.run import record

    if args.source not in settings.sources.configured():
        return fail(f"--source {args.source}: not configured ([sources.{args.source}] url)", 2)
    if args.source not in OPERATIONS:
        return fail(
            f"--source {args.source}: record knows operations for {', '.join(OPERATIONS)} only", 2
        )
    callers = dict(args.callers)
    if len(set(callers.values())) < len(callers):
        return fail("--as: each role needs a token of its own", 2)
    summary = asyncio.run(record(settings, args.source, callers, args.out))
    sizes = ", ".join(f"{name} {size} bytes" for name, size in summary["bytes"].items())
    print(
        f"wrote {args.out}: {summary['exchanges']} exchanges for {summary['operations']} "
        f"operations ({sizes}); redacted: {summary['redacted']}"
    )
    return 0


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"must be a port between 1 and 65535, got {text!r}")
    return port


def worker_count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"must be between 1 and 64, got {text!r}")
    return int(text)


def simulator_port(text: str) -> tuple[str, int]:
    name, _, port = text.partition("=")
    if name not in SOURCES or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(
            f"must be NAME=PORT with NAME one of {', '.join(SOURCES)}, got {text!r}"
        )
    return name, int(port)


def fail(message: str, code: int) -> int:
    print(f"legacygraph: {message}", file=sys.stderr)
    return code


def nothing_configured(config: Path | None, environ: Mapping[str, str]) -> str:
    """Why there is no source, for one line: an empty file, or no configuration at all."""
    path = config or (Path(environ[CONFIG_ENV]) if environ.get(CONFIG_ENV) else None)
    if path is not None:
        return f"{path}: no source is configured (a [sources.<name>] table with its url)"
    return (
        "no source is configured: give --config FILE (or set LEGACYGRAPH_CONFIG, or "
        "LEGACYGRAPH_SOURCES__<NAME>__URL)"
    )


def demo(settings: Settings, args: argparse.Namespace) -> int:
    """The simulators on their usual ports (or those asked for) and the gateway over them; any
    sources the configuration names are replaced by the simulators."""
    server = dataclasses.replace(
        settings.server,
        host=args.host if args.host is not None else settings.server.host,
        port=args.port if args.port is not None else settings.server.port,
        workers=1,  # the simulators live in this one process
    )
    ports = {name: spec.demo_port for name, spec in SOURCES.items()} | dict(args.simulator_port)
    needs = [("the gateway", server.host, server.port, "--port changes it")]
    needs += [
        (
            f"the {SOURCES[name].label} simulator",
            SIMULATOR_HOST,
            port,
            f"--simulator-port {name}=PORT moves it, --port moves the gateway",
        )
        for name, port in ports.items()
        if port
    ]
    return run(dataclasses.replace(settings, server=server), needs, simulators=ports)


def run(
    settings: Settings,
    needs: list[tuple[str, str, int, str]],
    *,
    simulators: dict[str, int] | None = None,
) -> int:
    """Check that every port in `needs` (what for, host, port, how to move it) can be listened
    on, start the simulators (if asked) and serve the gateway until Ctrl-C."""
    from graph.server.app import create_app

    try:
        check_ports(needs)
    except CannotListen as error:
        return fail(str(error), 1)
    configure_logging(settings.server.log_format, secrets_in(settings))
    with ExitStack() as stack:
        if simulators is not None:
            try:
                settings = stack.enter_context(embedded_simulators(settings, simulators))
            except CannotListen as error:  # taken since it was checked
                return fail(str(error), 1)

        def announce() -> None:
            for line in describe(settings, demo=simulators is not None):
                print(f"legacygraph: {line}", flush=True)

        server = settings.server
        if server.workers > 1:  # each worker builds the app from the configuration
            announce()
            uvicorn.run(
                "graph.server.app:app_from_environment",
                factory=True,
                workers=server.workers,
                host=server.host,
                port=server.port,
                access_log=False,
                log_config=None,  # uvicorn's lines go through the same handler and redaction
            )
            return 0
        config = uvicorn.Config(
            create_app(settings),
            host=server.host,
            port=server.port,
            access_log=False,
            log_config=None,
        )
        gateway = AnnouncingServer(config, announce)
        with suppress(KeyboardInterrupt):  # uvicorn stops gracefully, then raises it again
            gateway.run()
        return 0 if gateway.started else 1


class AnnouncingServer(uvicorn.Server):
    """Says where the gateway is once it listens, not before."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]) -> None:
        super().__init__(config)
        self.announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.announce()


def describe(settings: Settings, *, demo: bool) -> Iterator[str]:
    """Where the endpoint is, what it serves, and (in the demo) a first query to try."""
    base = f"http://{settings.server.host}:{settings.server.port}"
    yield f"GraphQL endpoint {base}/graphql"
    if settings.playground.enabled:
        yield f"playground {base}/playground/ (in a browser)"
    for name, source in settings.sources.configured().items():
        yield f"{name} at {source.url}"
    if demo:
        example = '{"query": "{ discussions(first: 3) { nodes { title } } }"}'
        yield f"try  curl -s {base}/graphql -H 'content-type: application/json' -d '{example}'"


def check_ports(needs: list[tuple[str, str, int, str]]) -> None:
    """Raise `CannotListen` naming the first port that is asked for twice or cannot be bound."""
    seen: dict[int, str] = {}
    for what, host, port, remedy in needs:
        if port in seen:
            raise CannotListen(f"port {port} is asked for twice: {seen[port]} and {what}")
        seen[port] = what
        family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn binds
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                raise CannotListen(unavailable(what, host, port, remedy, error)) from None


def unavailable(what: str, host: str, port: int, remedy: str, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is taken; {what} needs it ({remedy})"
    return f"{what} cannot listen on {host}:{port}: {error.strerror or error}"


@contextmanager
def embedded_simulators(settings: Settings, ports: dict[str, int]) -> Iterator[Settings]:
    """Start the simulators in this process and point every source at its simulator."""
    from simulators import SIMULATORS
    from simulators.serve import serve_in_thread
    from simulators.world import build_world

    world = build_world()
    with ExitStack() as stack:
        urls = {}
        for name, sim in SIMULATORS.items():
            port = ports.get(name, 0)
            try:
                urls[name] = stack.enter_context(serve_in_thread(sim.app(world), port=port))
            except OSError as error:
                what = f"the {SOURCES[name].label} simulator"
                remedy = f"--simulator-port {name}=PORT moves it"
                raise CannotListen(unavailable(what, SIMULATOR_HOST, port, remedy, error)) from None
        # Over the simulators, gateway sessions are on with a key that lives as long as the process.
        session = settings.session
        if not session.keys:
            session = dataclasses.replace(session, keys=(Fernet.generate_key().decode(),))
        yield dataclasses.replace(
            settings,
            session=session,
            sources=SourcesSettings(
                **{name: spec.over_simulator(urls[name]) for name, spec in SOURCES.items()}
            ),
        )


async def check_config(settings: Settings) -> int:
    """Print one line per configured source: reachable, whom it authenticated as, version."""
    sources = settings.sources.configured()
    print(f"config ok: {len(sources)} source(s) configured")
    failures = 0
    for name, source in sources.items():
        async with source.new_client(max_connections=1) as client:  # as the gateway reaches it
            try:
                line = await ping(name, source, client)
            except UpstreamError as error:
                failures += 1
                line = f"FAILED ({error.kind}): {error.message}"
            except httpx.InvalidURL as error:  # a URL the configuration let through
                failures += 1
                line = f"FAILED (invalid URL): {error}"
        print(f"{name:8} {source.url}  {line}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
