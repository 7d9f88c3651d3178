"""What the front page costs: upstream requests, and the gateway's overhead per request.

Runs the Flarum simulator and the gateway as separate processes on loopback ports, then times
the same page read straight from the simulator and through the gateway, one request at a time.
Overhead = gateway latency - direct latency (medians). Usage: `make bench` or
`python -m bench.discussions [--requests N] [--scale N] [--cache-ttl S] [--traces]`.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

FRONT_PAGE = """query Front { discussions(first: 20) { nodes {
  id title commentCount author { username displayName } tags { name } firstPost { contentHtml }
} pageInfo { hasNextPage endCursor } } }"""
DIRECT = "/api/discussions?include=user,tags,firstPost&page[offset]=0&page[limit]=20"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def process(args: list[str], ready_url: str) -> Iterator[int]:
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(ready_url, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise RuntimeError(f"{args[2]} did not start") from None
                time.sleep(0.1)
        yield child.pid
    finally:
        child.terminate()
        child.wait(timeout=10)


def timed(call: Callable[[], None], count: int) -> list[float]:
    for _ in range(min(20, count)):  # warm-up: connections, caches
        call()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def describe(samples: list[float]) -> str:
    quantiles = statistics.quantiles(samples, n=20)
    return f"median {statistics.median(samples):6.2f} ms   p95 {quantiles[18]:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument(
        "--cache-ttl", type=float, default=0, help="the gateway's response cache (0: off)"
    )
    parser.add_argument(
        "--traces",
        action="store_true",
        help="trace every operation and upstream request (console exporter, output discarded)",
    )
    args = parser.parse_args()
    flarum_port, gateway_port = free_port(), free_port()
    flarum = f"http://127.0.0.1:{flarum_port}"
    gateway = f"http://127.0.0.1:{gateway_port}"
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.toml"
        config.write_text(
            f'[server]\nport = {gateway_port}\n[sources.flarum]\nurl = "{flarum}"\n'
            f"cache_ttl_s = {args.cache_ttl}\n"
            + ('[tracing]\nexporter = "console"\n' if args.traces else "")
        )
        simulator = [sys.executable, "-m", "simulators", "flarum", "--port", str(flarum_port)]
        with (
            process([*simulator, "--scale", str(args.scale)], f"{flarum}/api") as flarum_pid,
            process(
                [sys.executable, "-m", "graph.cli", "serve", "--config", str(config)],
                f"{gateway}/healthz",
            ) as gateway_pid,
            httpx.Client(timeout=30) as client,
        ):

            def direct() -> None:
                client.get(flarum + DIRECT).raise_for_status()

            def through_gateway() -> None:
                body = client.post(f"{gateway}/graphql", json={"query": FRONT_PAGE}).json()
                assert "errors" not in body, body["errors"]

            client.delete(f"{flarum}/_simulator/requests")
            through_gateway()
            upstream = client.get(f"{flarum}/_simulator/requests").json()
            direct_ms = timed(direct, args.requests)
            before = cpu_seconds(gateway_pid), cpu_seconds(flarum_pid)
            gateway_ms = timed(through_gateway, args.requests)
            after = cpu_seconds(gateway_pid), cpu_seconds(flarum_pid)
    served = args.requests + min(20, args.requests)
    gateway_cpu, flarum_cpu = ((a - b) * 1000 / served for a, b in zip(after, before, strict=True))
    overhead = statistics.median(gateway_ms) - statistics.median(direct_ms)
    print(
        f"front page (20 discussions + author, tags, first post), {args.requests} requests,"
        f" cache {'off' if not args.cache_ttl else f'{args.cache_ttl:g} s'},"
        f" traces {'on' if args.traces else 'off'}"
    )
    print(f"  upstream requests per query: {sum(upstream.values())}  {upstream}")
    print(f"  direct to Flarum simulator:  {describe(direct_ms)}")
    print(f"  through the gateway:         {describe(gateway_ms)}")
    print(f"  gateway overhead (medians):  {overhead:6.2f} ms")
    print(f"  CPU per query: gateway {gateway_cpu:5.2f} ms, Flarum simulator {flarum_cpu:5.2f} ms")


if __name__ == "__main__":
    main()
