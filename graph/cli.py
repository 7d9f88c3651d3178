"""The `legacygraph` command: serve, demo, export-schema, check-config."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from pathlib import Path

import uvicorn
from cryptography.fernet import Fernet

from connectors.errors import UpstreamError
from connectors.http import new_client

from .config import (
    CONFIG_ENV,
    ConfigError,
    FederationSettings,
    Settings,
    SourcesSettings,
    load_settings,
    secrets_in,
)
from .health import ping
from .logs import configure_logging
from .sources import SOURCES

__all__ = ["main"]

SCHEMA_FILE = Path("schema.graphql")
"""Where `export-schema` writes, from the current directory (the repository's root for `make
schema`)."""


def version() -> str:
    try:
        return installed_version("legacygraph")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="legacygraph", description="One GraphQL API over legacy systems."
    )
    parser.add_argument("--version", action="version", version=f"legacygraph {version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the gateway (no config: over the simulators)")
    serve.add_argument("--config", type=Path, help="TOML file (default: $LEGACYGRAPH_CONFIG)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, help="gateway processes (default: [server] workers)")
    commands.add_parser("demo", help="run the simulators and the gateway on their usual ports")
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
    check.add_argument("--config", type=Path)
    args = parser.parse_args(argv)

    if args.command == "export-schema":
        from .schema import export_sdl

        federation = None
        if args.federation_version:
            federation = FederationSettings(enabled=True, version=args.federation_version)
        elif args.federation:
            try:
                configured = load_settings(args.config, os.environ).federation
            except ConfigError as error:
                print(f"legacygraph: {error}", file=sys.stderr)
                return 2
            federation = dataclasses.replace(configured, enabled=True)
        args.output.write_text(export_sdl(federation=federation), encoding="utf-8")
        print(f"wrote {args.output}")
        return 0
    try:
        settings = load_settings(getattr(args, "config", None), os.environ)
    except ConfigError as error:
        print(f"legacygraph: {error}", file=sys.stderr)
        return 2
    if args.command == "check-config":
        return asyncio.run(check_config(settings))
    if args.command == "demo":
        ports = {name: spec.demo_port for name, spec in SOURCES.items()}
        return run(settings, simulator_ports=ports, demo=True)
    server = dataclasses.replace(
        settings.server,
        host=args.host or settings.server.host,
        port=args.port or settings.server.port,
        workers=args.workers or settings.server.workers,
    )
    if server.workers > 1:
        if not settings.sources.configured():
            print(
                "legacygraph: workers need configured sources, not the simulators",
                file=sys.stderr,
            )
            return 2
        if args.config is not None:  # each worker reads the same configuration at its start
            os.environ[CONFIG_ENV] = str(args.config.resolve())
    return run(dataclasses.replace(settings, server=server), simulator_ports={}, demo=False)


def run(settings: Settings, *, simulator_ports: dict[str, int], demo: bool) -> int:
    from .app import create_app

    configure_logging(settings.server.log_format, secrets_in(settings))
    with ExitStack() as stack:
        if not settings.sources.configured():
            settings = stack.enter_context(embedded_simulators(settings, simulator_ports))
        base = f"http://{settings.server.host}:{settings.server.port}"
        print(f"legacygraph: GraphQL endpoint {base}/graphql", flush=True)
        if settings.playground.enabled:
            print(f"legacygraph: playground {base}/playground/ (in a browser)", flush=True)
        for name, source in settings.sources.configured().items():
            print(f"legacygraph: {name} at {source.url}", flush=True)
        if demo:
            example = '{"query": "{ discussions(first: 3) { nodes { title } } }"}'
            print(
                f"legacygraph: try  curl -s {base}/graphql -H 'content-type: application/json'"
                f" -d '{example}'",
                flush=True,
            )
        workers = settings.server.workers
        uvicorn.run(
            # Several workers each build the app from the configuration (`app_from_environment`).
            "graph.app:app_from_environment" if workers > 1 else create_app(settings),
            factory=workers > 1,
            workers=workers,
            host=settings.server.host,
            port=settings.server.port,
            access_log=False,
            log_config=None,  # uvicorn's own lines go through the same handler: format, redaction
        )
    return 0


@contextmanager
def embedded_simulators(settings: Settings, ports: dict[str, int]) -> Iterator[Settings]:
    """Start the simulators in this process and point the sources at them."""
    from simulators import SIMULATORS
    from simulators.serve import serve_in_thread
    from simulators.world import build_world

    world = build_world()
    with ExitStack() as stack:
        urls = {
            name: stack.enter_context(serve_in_thread(sim.app(world), port=ports.get(name, 0)))
            for name, sim in SIMULATORS.items()
        }
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
        async with new_client(timeout_s=source.timeout_s, max_connections=1) as client:
            try:
                line = await ping(name, source, client)
            except UpstreamError as error:
                failures += 1
                line = f"FAILED ({error.kind}): {error.message}"
        print(f"{name:8} {source.url}  {line}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
