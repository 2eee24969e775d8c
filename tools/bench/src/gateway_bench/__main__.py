"""`python -m gateway_bench` (`make bench`): the proxy against a canned nginx upstream with wrk.

Each scenario runs wrk straight at nginx, then through the proxy, in the same run, and prints
RPS, p50 and p99 for both and the p50 the proxy adds (each proxied run follows a 2 s warm-up
at the same concurrency, so one-time costs such as opening upstream connections are not measured);
then the Granian floor (a minimal ASGI app with the proxy's Granian flags on its core,
`floor.py`) and the proxy's c=1 p50 and c=64 RPS against it; then what the guards cost, as the
median of alternating runs with the key without limits and the key with them; then the
worker's RSS idle and after load and how many usage events reached JetStream. `--profile` also
samples the worker with py-spy during an extra c=64 non-streaming run and prints where its time
goes. Loopback only, bounded runs (`--seconds`, default 10 per measurement).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from gateway_devstack.procs import free_port

from gateway_bench import pyspy
from gateway_bench.floor import start_floor
from gateway_bench.seed import FAILOVER_MODEL
from gateway_bench.soak import soak
from gateway_bench.stack import LOAD_CORE, BenchStack, rss_bytes
from gateway_bench.sweep import sweep
from gateway_bench.wrk import WrkResult, run_wrk, write_script


@dataclass(frozen=True)
class Scenario:
    """One load shape: model alias (upstream location), concurrency, streaming or not."""

    name: str
    model: str
    connections: int
    stream: bool = False
    limited: bool = False  # sent with the key whose rate limits are on (never refusing)


SCENARIOS = (
    Scenario("c=1 non-streaming", "bench-sync", 1),
    Scenario("c=64 non-streaming", "bench-sync", 64),
    Scenario("c=64 non-streaming, rate limits on", "bench-sync", 64, limited=True),
    Scenario("c=64 streaming (20 events)", "bench-sse", 64, stream=True),
    Scenario("c=64 upstream answers after 50 ms", "bench-slow", 64),
    # Every request first meets a refused connection, then is served by the sync upstream.
    Scenario("c=1 failover after a refused connection", FAILOVER_MODEL, 1),
)
_PATHS = {
    "bench-sync": "/sync/v1",
    "bench-sse": "/sse/v1",
    "bench-slow": "/slow/v1",
    FAILOVER_MODEL: "/sync/v1",
}


def _body(scenario: Scenario) -> dict[str, object]:
    body: dict[str, object] = {
        "model": scenario.model,
        "messages": [{"role": "user", "content": "Say hello."}],
    }
    if scenario.stream:
        body["stream"] = True
    return body


def _usage_events(stack: BenchStack) -> int:
    assert stack.nats is not None
    info = httpx.get(f"http://127.0.0.1:{stack.nats.monitor_port}/jsz?streams=true", timeout=5).json()
    for account in info.get("account_details", []):
        for stream in account.get("stream_detail", []):
            if stream.get("name") == "USAGE":
                return int(stream["state"]["messages"])
    return 0


def _row(name: str, direct: WrkResult, proxied: WrkResult) -> str:
    return (
        f"| {name} | {direct.rps:,.0f} | {direct.p50_ms:.2f} | {direct.p99_ms:.2f} | {proxied.rps:,.0f} | "
        f"{proxied.p50_ms:.2f} | {proxied.p99_ms:.2f} | {proxied.p50_ms - direct.p50_ms:+.2f} |"
    )


def main() -> None:
    """Run every scenario and print the markdown table (and JSON to .run/bench/results.json)."""
    parser = argparse.ArgumentParser(prog="gateway_bench", description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--root", type=Path, default=Path(".run/bench"), help="working directory")
    parser.add_argument("--profile", action="store_true", help="py-spy the worker during c=64")
    parser.add_argument("--soak", type=int, default=0, metavar="SECONDS", help="run only the soak, this long")
    parser.add_argument(
        "--sweep", action="store_true", help="run only the 50 ms upstream at 4 to 64 connections"
    )
    args = parser.parse_args()
    stack = BenchStack(root=args.root.resolve())
    results: dict[str, object] = {}
    try:
        stack.start()
        # The NATS store under --root outlives a run: count this run's events only.
        events_before = _usage_events(stack)
        worker = stack.worker_pid()
        key = stack.secrets.virtual_key
        warm = write_script(stack.root / "warm.lua", _body(SCENARIOS[0]), key)
        run_wrk(f"{stack.proxy_base}/v1/chat/completions", warm, connections=8, seconds=2, core=LOAD_CORE)
        rss_idle = rss_bytes(worker)
        if args.soak:
            results["soak"] = soak(stack, warm, args.soak)
            return
        if args.sweep:
            slow = write_script(stack.root / "sweep.lua", _body(SCENARIOS[4]), key)
            results["sweep"] = sweep(stack, slow, args.seconds)
            return
        lines = [
            "| scenario | direct RPS | direct p50 ms | direct p99 ms | proxy RPS | proxy p50 ms "
            "| proxy p99 ms | added p50 ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for scenario in SCENARIOS:
            scenario_key = stack.secrets.limited_key if scenario.limited else key
            script = write_script(
                stack.root / f"{scenario.name.replace(' ', '_')}.lua", _body(scenario), scenario_key
            )
            direct = run_wrk(
                f"{stack.upstream_base}{_PATHS[scenario.model]}/chat/completions",
                script,
                connections=scenario.connections,
                seconds=args.seconds,
                core=LOAD_CORE,
            )
            proxy_url = f"{stack.proxy_base}/v1/chat/completions"
            run_wrk(proxy_url, script, connections=scenario.connections, seconds=2, core=LOAD_CORE)
            proxied = run_wrk(
                proxy_url, script, connections=scenario.connections, seconds=args.seconds, core=LOAD_CORE
            )
            results[scenario.name] = {"direct": asdict(direct), "proxy": asdict(proxied)}
            lines.append(_row(scenario.name, direct, proxied))
            print(lines[-1] if len(lines) > 3 else "\n".join(lines), flush=True)
            for result in (direct, proxied):
                if result.errors:
                    print(f"  errors: {result.errors}", flush=True)
        results["granian_floor"] = _floor(stack, results, args.seconds)
        guards = _guards_cost(stack, max(3, args.seconds // 2))
        results["guards_cost_share"] = guards
        print(f"rate limits on cost {guards:.1%} of the proxy's c=64 RPS (median of the pairs above)")
        failover = _failover_cost(results)
        results["failover_added_p50_ms"] = failover
        print(f"\nfailover after a refused connection adds {failover:+.2f} ms p50 (vs c=1 non-streaming)")
        rss_loaded = rss_bytes(worker)
        results["rss_idle_mib"] = rss_idle / 2**20
        results["rss_after_load_mib"] = rss_loaded / 2**20
        results["usage_events"] = _usage_events(stack) - events_before
        print(f"\nworker RSS: idle {rss_idle / 2**20:.1f} MiB, after load {rss_loaded / 2**20:.1f} MiB")
        print(f"usage events this run published to JetStream USAGE: {results['usage_events']}")
        # Other work on the machine skews every number: say how busy it was.
        results["load_average"] = os.getloadavg()
        print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        if args.profile:
            _profile(stack, worker, key, args.seconds)
    finally:
        stack.stop()
        (stack.root / "results.json").write_text(json.dumps(results, indent=2))


def _floor(stack: BenchStack, results: dict[str, object], seconds: int) -> dict[str, object]:
    """The Granian floor at c=1 and c=64 (floor.py), and the proxy's figures as ratios to it."""
    floor = start_floor(stack.root / "floor", port := free_port())
    try:
        script = write_script(stack.root / "floor.lua", _body(SCENARIOS[0]), stack.secrets.virtual_key)
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        run_wrk(url, script, connections=8, seconds=2, core=LOAD_CORE)
        c1 = run_wrk(url, script, connections=1, seconds=seconds, core=LOAD_CORE)
        c64 = run_wrk(url, script, connections=64, seconds=seconds, core=LOAD_CORE)
    finally:
        floor.stop()
    proxy_c1_p50 = _proxy(results, "c=1 non-streaming", "p50_ms")
    proxy_c64_rps = _proxy(results, "c=64 non-streaming", "rps")
    above_floor_us = (1 / proxy_c64_rps - 1 / c64.rps) * 1e6
    print(
        "\nGranian floor (a minimal ASGI app reading the body, the proxy's Granian flags, its core):"
        f"\n  c=1: {c1.rps:,.0f} RPS, p50 {c1.p50_ms:.2f} ms; the proxy's p50 is "
        f"{proxy_c1_p50 - c1.p50_ms:+.2f} ms above it"
        f"\n  c=64: {c64.rps:,.0f} RPS; the proxy serves {proxy_c64_rps / c64.rps:.2f}x that, "
        f"{above_floor_us:,.0f} µs of the core per request above the floor",
        flush=True,
    )
    return {
        "c1": asdict(c1),
        "c64": asdict(c64),
        "proxy_c1_p50_above_floor_ms": proxy_c1_p50 - c1.p50_ms,
        "proxy_c64_rps_ratio": proxy_c64_rps / c64.rps,
        "proxy_c64_us_per_request_above_floor": above_floor_us,
    }


def _guards_cost(stack: BenchStack, seconds: int, pairs: int = 3) -> float:
    """Share of the proxy's c=64 RPS lost when every request runs the rate-limit script.

    The same key without and with limits (high enough never to refuse), alternated `pairs` times
    so that the machine's drift hits both sides alike; the median of the pairs' shares.
    """
    url = f"{stack.proxy_base}/v1/chat/completions"
    body = _body(SCENARIOS[1])
    plain = write_script(stack.root / "guards_off.lua", body, stack.secrets.virtual_key)
    guarded = write_script(stack.root / "guards_on.lua", body, stack.secrets.limited_key)
    shares: list[float] = []
    for pair in range(pairs):
        off = run_wrk(url, plain, connections=64, seconds=seconds, core=LOAD_CORE)
        on = run_wrk(url, guarded, connections=64, seconds=seconds, core=LOAD_CORE)
        shares.append(1 - on.rps / off.rps)
        print(f"guards pair {pair + 1}: off {off.rps:,.0f} RPS, on {on.rps:,.0f} RPS -> {shares[-1]:.1%}")
    return statistics.median(shares)


def _proxy(results: dict[str, object], name: str, field: str) -> float:
    entry = results[name]
    assert isinstance(entry, dict)
    return float(entry["proxy"][field])


def _failover_cost(results: dict[str, object]) -> float:
    """p50 of the failover scenario minus the plain c=1 scenario's, both through the proxy."""

    return _proxy(results, "c=1 failover after a refused connection", "p50_ms") - _proxy(
        results, "c=1 non-streaming", "p50_ms"
    )


def _profile(stack: BenchStack, pid: int, key: str, seconds: int) -> None:
    import threading

    script = write_script(stack.root / "profile.lua", _body(SCENARIOS[1]), key)
    out = stack.root / "profile.txt"
    load = threading.Thread(
        target=run_wrk,
        args=(f"{stack.proxy_base}/v1/chat/completions", script),
        kwargs={"connections": 64, "seconds": seconds + 2, "core": LOAD_CORE},
    )
    load.start()
    pyspy.record(pid, seconds, out)
    load.join()
    total, own, inclusive = pyspy.summarise(out)
    print(f"\npy-spy: {total} samples during c=64 non-streaming ({out})")
    print("\nself time (leaf frames):")
    for name, share in own:
        print(f"  {share:5.1f}%  {name}")
    print("\ninclusive time:")
    for name, share in inclusive:
        print(f"  {share:5.1f}%  {name}")


if __name__ == "__main__":
    main()
