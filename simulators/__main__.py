"""`python -m simulators flarum --port 9104`: run one simulator in the foreground."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from . import SIMULATORS
from .world import build_world


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__)
    parser.add_argument("system", choices=sorted(SIMULATORS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help="default: the system's usual port")
    parser.add_argument("--scale", type=int, default=1, help="seed a world N times larger")
    parser.add_argument("--data", type=Path, default=None, help="keep state in DIR/<system>.sqlite")
    parser.add_argument("--latency-ms", type=float, default=0, help="moodle, elgg: delay answers")
    parser.add_argument(
        "--no-multicall", action="store_true", help="moodle: play a site without multi-call"
    )
    parser.add_argument(
        "--methods",
        choices=("legacygraph", "rest_api"),
        default=None,
        help="elgg: the plugin whose web service methods the site exposes",
    )
    parser.add_argument(
        "--era", choices=("5", "3.2"), default=None, help="civicrm: CiviCRM 5 or a 3.2-era site"
    )
    args = parser.parse_args(argv)
    options: dict[str, object] = {}
    if args.system == "moodle":
        options = {"latency_s": args.latency_ms / 1000, "multicall": not args.no_multicall}
    elif args.system == "elgg":
        options = {"latency_s": args.latency_ms / 1000, "methods": args.methods or "legacygraph"}
    elif args.system == "civicrm":
        options = {"era": args.era or "5"}
    if (args.latency_ms and args.system not in ("moodle", "elgg")) or (
        args.no_multicall and args.system != "moodle"
    ):
        parser.error("--latency-ms applies to moodle and elgg, --no-multicall to moodle")
    if (args.methods and args.system != "elgg") or (args.era and args.system != "civicrm"):
        parser.error("--methods applies to elgg, --era to civicrm")
    simulator = SIMULATORS[args.system]
    database = ":memory:"
    if args.data is not None:
        args.data.mkdir(parents=True, exist_ok=True)
        database = str(args.data / f"{args.system}.sqlite")
    app = simulator.create_app(build_world(args.scale), database=database, **options)
    uvicorn.run(app, host=args.host, port=args.port or simulator.port, log_level="warning")


if __name__ == "__main__":
    main()
