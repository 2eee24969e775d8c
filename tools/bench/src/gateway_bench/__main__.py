"""`python -m gateway_bench` (`make bench`): the proxy against a canned nginx upstream with wrk.

Each scenario runs wrk straight at nginx, then through the proxy, in the same run, and prints
RPS, p50 and p99 for both, the p50 the proxy adds and the worker's CPU per proxied request (each
proxied run follows a 2 s warm-up at the same concurrency, so one-time costs such as opening
upstream connections are not measured); then the Granian floor (a minimal ASGI app with the
proxy's Granian flags on its core, `floor.py`) and the proxy's c=1 p50 and c=64 RPS against it.
`--rounds N` runs the scenarios and the floor N times and reports medians (`rounds.py`). Then
what the guards cost, as the median of alternating runs (three pairs per round) with the key
without limits and the key with them; then the worker's RSS idle and after load and how many
usage events reached JetStream; then every scenario through the app alone, in-process without
Granian (`app_alone.py`), its p50 and CPU per request next to the worker's. `--profile` also
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
from gateway_bench.app_alone import AppCase, measure_app_alone
from gateway_bench.floor import start_floor
from gateway_bench.rounds import (
    FloorRound,
    FloorSummary,
    Measured,
    ScenarioSummary,
    summarise,
    summarise_floor,
)
from gateway_bench.seed import FAILOVER_MODEL
from gateway_bench.soak import soak
from gateway_bench.stack import LOAD_CORE, PROXY_CORE, BenchStack, rss_bytes
from gateway_bench.sweep import cpu_seconds, sweep
from gateway_bench.wrk import run_wrk, write_script


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


def _key(stack: BenchStack, scenario: Scenario) -> str:
    """The virtual key a scenario sends: the one with rate limits on, or the plain one."""
    return stack.secrets.limited_key if scenario.limited else stack.secrets.virtual_key


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _usage_events(stack: BenchStack) -> int:
    assert stack.nats is not None
    info = httpx.get(f"http://127.0.0.1:{stack.nats.monitor_port}/jsz?streams=true", timeout=5).json()
    for account in info.get("account_details", []):
        for stream in account.get("stream_detail", []):
            if stream.get("name") == "USAGE":
                return int(stream["state"]["messages"])
    return 0


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
    parser.add_argument(
        "--rounds",
        type=_positive,
        default=1,
        help="run every scenario and the floor this many times; each figure is the median (rounds.py)",
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
        per_round: list[dict[str, Measured]] = []
        floors: list[FloorRound] = []
        for number in range(1, args.rounds + 1):
            if args.rounds > 1:
                print(f"round {number} of {args.rounds}", flush=True)
            per_round.append(_run_scenarios(stack, worker, args.seconds))
            floors.append(_measure_floor(stack, per_round[-1], args.seconds))
        summaries = {
            scenario.name: summarise([measured[scenario.name] for measured in per_round])
            for scenario in SCENARIOS
        }
        _print_table(summaries)
        for name, summary in summaries.items():
            results[name] = {
                "direct": asdict(summary.direct),
                "proxy": asdict(summary.proxied),
                "added_p50_ms": summary.added_p50_ms,
                "worker_cpu_us_per_request": summary.cpu_us_per_request,
                "rounds": [asdict(measured[name]) for measured in per_round],
            }
        results["granian_floor"] = _report_floor(summarise_floor(floors))
        guards = _guards_cost(stack, max(3, args.seconds // 2), pairs=3 * args.rounds)
        results["guards_cost_share"] = guards
        print(f"rate limits on cost {guards:.1%} of the proxy's c=64 RPS (median of the pairs above)")
        failover = _failover_cost(per_round)
        results["failover_added_p50_ms"] = failover
        print(f"\nfailover after a refused connection adds {failover:+.2f} ms p50 (vs c=1 non-streaming)")
        rss_loaded = rss_bytes(worker)
        results["rss_idle_mib"] = rss_idle / 2**20
        results["rss_after_load_mib"] = rss_loaded / 2**20
        results["usage_events"] = _usage_events(stack) - events_before
        print(f"\nworker RSS: idle {rss_idle / 2**20:.1f} MiB, after load {rss_loaded / 2**20:.1f} MiB")
        print(f"usage events this run published to JetStream USAGE: {results['usage_events']}")
        results["app_alone"] = _app_alone(stack, summaries, args.seconds)
        # Other work on the machine skews every number: say how busy it was.
        results["load_average"] = os.getloadavg()
        print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        if args.profile:
            _profile(stack, worker, key, args.seconds)
    finally:
        stack.stop()
        (stack.root / "results.json").write_text(json.dumps(results, indent=2))


def _run_scenarios(stack: BenchStack, worker: int, seconds: int) -> dict[str, Measured]:
    """Every scenario once: wrk straight at nginx, a 2 s warm-up, then wrk through the proxy."""
    measured: dict[str, Measured] = {}
    for scenario in SCENARIOS:
        key = _key(stack, scenario)
        script = write_script(stack.root / f"{scenario.name.replace(' ', '_')}.lua", _body(scenario), key)
        direct = run_wrk(
            f"{stack.upstream_base}{_PATHS[scenario.model]}/chat/completions",
            script,
            connections=scenario.connections,
            seconds=seconds,
            core=LOAD_CORE,
        )
        proxy_url = f"{stack.proxy_base}/v1/chat/completions"
        run_wrk(proxy_url, script, connections=scenario.connections, seconds=2, core=LOAD_CORE)
        before = cpu_seconds(worker)
        proxied = run_wrk(
            proxy_url, script, connections=scenario.connections, seconds=seconds, core=LOAD_CORE
        )
        cpu_us = (cpu_seconds(worker) - before) / max(1.0, proxied.rps * seconds) * 1e6
        measured[scenario.name] = Measured(direct, proxied, cpu_us)
        print(
            f"  {scenario.name}: direct {direct.rps:,.0f} RPS, proxy {proxied.rps:,.0f} RPS, added p50 "
            f"{proxied.p50_ms - direct.p50_ms:+.2f} ms, {cpu_us:,.0f} µs of the worker's CPU per request",
            flush=True,
        )
        for result in (direct, proxied):
            if result.errors:
                print(f"  errors ({scenario.name}): {result.errors}", flush=True)
    return measured


def _print_table(summaries: dict[str, ScenarioSummary]) -> None:
    rounds = next(iter(summaries.values())).rounds
    if rounds > 1:
        print(f"\nmedians of {rounds} rounds; the proxy's RPS range is its lowest and highest round")
    print(
        "| scenario | direct RPS | direct p50 ms | direct p99 ms | proxy RPS | proxy RPS range "
        "| proxy p50 ms | proxy p99 ms | added p50 ms | worker CPU per request |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, summary in summaries.items():
        direct, proxied = summary.direct, summary.proxied
        print(
            f"| {name} | {direct.rps:,.0f} | {direct.p50_ms:.2f} | {direct.p99_ms:.2f} | {proxied.rps:,.0f} "
            f"| {summary.proxy_rps_low:,.0f} to {summary.proxy_rps_high:,.0f} | {proxied.p50_ms:.2f} "
            f"| {proxied.p99_ms:.2f} | {summary.added_p50_ms:+.2f} | {summary.cpu_us_per_request:,.0f} µs |",
            flush=True,
        )


def _measure_floor(stack: BenchStack, measured: dict[str, Measured], seconds: int) -> FloorRound:
    """The Granian floor (floor.py) at c=1 and c=64, paired with this round's proxy figures."""
    floor = start_floor(stack.root / "floor", port := free_port())
    try:
        script = write_script(stack.root / "floor.lua", _body(SCENARIOS[0]), stack.secrets.virtual_key)
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        run_wrk(url, script, connections=8, seconds=2, core=LOAD_CORE)
        c1 = run_wrk(url, script, connections=1, seconds=seconds, core=LOAD_CORE)
        c64 = run_wrk(url, script, connections=64, seconds=seconds, core=LOAD_CORE)
    finally:
        floor.stop()
    return FloorRound(
        c1,
        c64,
        proxy_c1_p50_ms=measured["c=1 non-streaming"].proxied.p50_ms,
        proxy_c64_rps=measured["c=64 non-streaming"].proxied.rps,
    )


def _report_floor(floor: FloorSummary) -> dict[str, object]:
    print(
        "\nGranian floor (a minimal ASGI app reading the body, the proxy's Granian flags, its core):"
        f"\n  c=1: {floor.c1.rps:,.0f} RPS, p50 {floor.c1.p50_ms:.2f} ms; the proxy's p50 is "
        f"{floor.c1_p50_above_ms:+.2f} ms above it"
        f"\n  c=64: {floor.c64.rps:,.0f} RPS; the proxy serves {floor.c64_rps_ratio:.2f}x that, "
        f"{floor.c64_us_above:,.0f} µs of the core per request above the floor",
        flush=True,
    )
    return {
        "c1": asdict(floor.c1),
        "c64": asdict(floor.c64),
        "proxy_c1_p50_above_floor_ms": floor.c1_p50_above_ms,
        "proxy_c64_rps_ratio": floor.c64_rps_ratio,
        "proxy_c64_us_per_request_above_floor": floor.c64_us_above,
    }


def _app_alone(stack: BenchStack, summaries: dict[str, ScenarioSummary], seconds: int) -> dict[str, object]:
    """Each scenario through the app in-process (`app_alone.py`), next to the worker's CPU."""
    cases = [
        AppCase(
            name=scenario.name,
            body=json.dumps(_body(scenario)),
            key=_key(stack, scenario),
            connections=scenario.connections,
            seconds=seconds,
            stream=scenario.stream,
        )
        for scenario in SCENARIOS
    ]
    alone = measure_app_alone(stack.proxy_env(), cases, PROXY_CORE)
    print(
        "\nthe app alone (in-process ASGI calls on the proxy's core, no server; app_alone.py):"
        "\n| scenario | app RPS | app p50 ms | app added p50 ms | app CPU per request "
        "| worker CPU per request | the server's part |"
        "\n|---|---:|---:|---:|---:|---:|---:|"
    )
    report: dict[str, object] = {}
    for result in alone:
        summary = summaries[result.name]
        worker_us = summary.cpu_us_per_request
        app_us = result.cpu_us_per_request
        server_us = worker_us - app_us
        added_ms = result.p50_ms - summary.direct.p50_ms  # against wrk straight at nginx
        print(
            f"| {result.name} | {result.rps:,.0f} | {result.p50_ms:.2f} | {added_ms:+.2f} | {app_us:,.0f} µs "
            f"| {worker_us:,.0f} µs | {server_us:,.0f} µs ({server_us / worker_us:.0%}) |",
            flush=True,
        )
        report[result.name] = {
            **asdict(result),
            "added_p50_ms": added_ms,
            "server_us_per_request": server_us,
        }
    return report


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


def _failover_cost(per_round: list[dict[str, Measured]]) -> float:
    """The failover scenario's proxied p50 minus the plain c=1 one's, paired per round (median)."""
    return statistics.median(
        measured["c=1 failover after a refused connection"].proxied.p50_ms
        - measured["c=1 non-streaming"].proxied.p50_ms
        for measured in per_round
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
