"""Budget race: 200 concurrent requests through 2 proxies against a $1.00 hard budget.

Each request may cost at most $0.01 (a 900-word prompt and max_tokens 1000 at $5 / 1M tokens:
the proxy reserves ~$0.0095, the fake upstream's answer costs ~$0.0090). The fake holds every
answer 300 ms, so all 200 are in flight at once and race for the same budget on two proxy
processes. Afterwards, once accounting has stored every admitted request: the tenant's spend in
Postgres is at most $1.00, some requests were refused with 429 `insufficient_quota`, and every
reservation was released (the Redis reservation counter is back to 0). Sync and streaming.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import openai
import pytest
import redis
from gateway_devstack.base import Stack
from gateway_devstack.procs import ManagedProcess, free_port
from gateway_devstack.seed import ControlClient
from gateway_devstack.system import GatewaySystem

LIMIT_MICRO_USD = 1_000_000  # $1.00
PRICE = 5_000_000  # micro-USD per million tokens, input and output: $5 / 1M
PROMPT = " ".join(["w"] * 900)  # the fake counts words: 900 prompt tokens, a 901-word echo
MAX_TOKENS = 1000
MAX_COST = 10_000  # $0.01
REQUESTS = 200


@dataclass
class Race:
    """What the 200 requests got."""

    successes: int = 0
    refused: list[openai.RateLimitError] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)  # x-gateway-budget-remaining-usd seen
    resets: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def second_proxy(system: GatewaySystem) -> Iterator[str]:
    """Another proxy process on the same system (same settings, its own port)."""
    port = free_port()
    base = system.service_process("proxy")
    process = ManagedProcess(
        "proxy-budget",
        base.argv,
        {**base.env, "PROXY_PORT": str(port), "INSTANCE_ID": "proxy-budget"},
        cwd=None,
        log_path=system.root / "logs" / "proxy-budget.log",
        ready_url=f"http://127.0.0.1:{port}/healthz",
    )
    process.start()
    try:
        process.wait_ready(60)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.stop()


def _provision(admin: ControlClient, system: GatewaySystem) -> tuple[str, str, str, str]:
    """A tenant with a $1.00 hard daily budget, a key, and a slow $5/1M model: ids, key, model."""
    suffix = uuid.uuid4().hex[:8]
    tenant = admin.post("/api/v1/tenants", {"name": f"race-{suffix}"})
    provider = admin.post(
        "/api/v1/providers",
        {
            "name": f"race-upstream-{suffix}",
            "type": "openai_compatible",
            "base_url": system.fake_upstream_url,
            "credentials": {"api_key": system.secrets.upstream_api_key},
            "settings": {"header.x-fake-delay-ms": "300"},
        },
    )
    model = f"race-{suffix}"
    admin.post(
        "/api/v1/models",
        {"name": model, "pricing": {"input_micro_usd_per_mtok": PRICE, "output_micro_usd_per_mtok": PRICE}},
    )
    admin.post(
        "/api/v1/routes",
        {"model": model, "deployments": [{"provider_id": provider["id"], "upstream_model": "gpt-4o-mini"}]},
    )
    budget = admin.post(
        f"/api/v1/tenants/{tenant['id']}/budgets",
        {"limit_micro_usd": LIMIT_MICRO_USD, "period": "daily", "timezone": "UTC", "hard": True},
    )
    key = admin.post(f"/api/v1/tenants/{tenant['id']}/keys", {"name": "race"})
    return str(tenant["id"]), str(budget["id"]), key["key"], model


def _wait_until_budgeted(urls: list[str], api_key: str, model: str) -> int:
    """Until every proxy serves the model under the budget (a tiny request shows its header).

    Returns how many requests were admitted on the way (they count against the budget too).
    """
    admitted = 0
    with httpx.Client(timeout=30, trust_env=False) as http:
        for url in urls:
            deadline = time.monotonic() + 30
            while True:
                response = http.post(
                    f"{url}/chat/completions",
                    headers={"authorization": f"Bearer {api_key}"},
                    json={"model": model, "messages": [{"role": "user", "content": "w"}], "max_tokens": 1},
                )
                admitted += response.status_code == 200
                if "x-gateway-budget-remaining-usd" in response.headers:
                    break
                assert time.monotonic() < deadline, f"{url} never applied the budget: {response.text}"
                time.sleep(0.1)
    return admitted


async def _one(client: openai.AsyncOpenAI, model: str, stream: bool, race: Race) -> None:
    messages: list[dict[str, str]] = [{"role": "user", "content": PROMPT}]
    try:
        if stream:
            raw = await client.chat.completions.with_raw_response.create(
                model=model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=MAX_TOKENS,
                stream=True,
                stream_options={"include_usage": True},
            )
            chunks = raw.parse()
            async for _chunk in chunks:
                pass
        else:
            raw = await client.chat.completions.with_raw_response.create(
                model=model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=MAX_TOKENS,
            )
            raw.parse()
    except openai.RateLimitError as exc:
        race.refused.append(exc)
        return
    except openai.APIError as exc:
        race.other.append(f"{exc!r} caused by {exc.__cause__!r}")
        return
    race.successes += 1
    race.remaining.append(raw.headers.get("x-gateway-budget-remaining-usd", "missing"))
    race.resets.add(raw.headers.get("x-gateway-budget-reset", "missing"))


async def _race(urls: list[str], api_key: str, model: str, stream: bool) -> Race:
    race = Race()
    clients = [openai.AsyncOpenAI(base_url=url, api_key=api_key, max_retries=0, timeout=120) for url in urls]
    try:
        await asyncio.gather(*(_one(clients[i % 2], model, stream, race) for i in range(REQUESTS)))
    finally:
        for client in clients:
            await client.close()
    return race


def _settled_spend(admin: ControlClient, tenant_id: str, requests: int, timeout_s: float = 60) -> int:
    """The tenant's cost in accounting's Postgres once all `requests` are stored."""
    deadline = time.monotonic() + timeout_s
    while True:
        summary = admin.get("/api/v1/usage/summary", tenant_id=tenant_id)
        if summary["requests"] >= requests:
            assert summary["requests"] == requests, summary
            return int(summary["cost_micro_usd"])
        assert time.monotonic() < deadline, f"accounting stored {summary['requests']} of {requests}"
        time.sleep(0.2)


def _reserved(redis_url: str, budget_id: str, timeout_s: float = 30) -> int:
    """The budget's reservation counter once every hold is released (or what is left at the end)."""
    client = redis.Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            keys = client.keys(f"gw:budget:{budget_id}:*:reserved")
            held = sum(int(client.get(k) or 0) for k in keys)
            if held == 0 or time.monotonic() > deadline:
                return held
            time.sleep(0.2)
    finally:
        client.close()


@pytest.mark.e2e
@pytest.mark.parametrize("stream", [False, True], ids=["sync", "stream"])
def test_concurrent_requests_on_two_proxies_never_overspend_a_hard_budget(
    admin: ControlClient, system: GatewaySystem, second_proxy: str, stream: bool, e2e_stack: Stack
) -> None:
    tenant_id, budget_id, api_key, model = _provision(admin, system)
    urls = [system.proxy_url, second_proxy]
    warmups = _wait_until_budgeted(urls, api_key, model)

    race = asyncio.run(_race(urls, api_key, model, stream))

    assert not race.other, race.other[:5]
    assert race.successes + len(race.refused) == REQUESTS
    assert race.refused, "the budget never ran out: the race proved nothing"
    for refusal in race.refused:
        assert refusal.status_code == 429
        assert refusal.code == "insufficient_quota"
        assert refusal.type == "insufficient_quota"
        assert budget_id in refusal.message
        assert "resets at" in refusal.message
    assert "missing" not in race.remaining
    assert race.resets == {race.refused[0].response.headers["x-gateway-budget-reset"]}

    spent = _settled_spend(admin, tenant_id, race.successes + warmups)
    leftover = _reserved(e2e_stack.endpoints.redis_url, budget_id)
    print(
        f"budget race ({'stream' if stream else 'sync'}): {REQUESTS} concurrent requests on 2 proxies, "
        f"$1.00 hard budget, <= ${MAX_COST / 1e6:.2f} each: {race.successes} admitted, "
        f"{len(race.refused)} refused (429 insufficient_quota), {warmups} warm-up; "
        f"settled spend ${spent / 1e6:.6f}; reservations left {leftover} micro-USD"
    )
    assert spent <= LIMIT_MICRO_USD
    # The budget really was the constraint: each request reserves ~5 % more than it costs, so
    # refusals start with about 95 % of the limit spent.
    assert spent >= 0.9 * LIMIT_MICRO_USD
    assert leftover == 0
