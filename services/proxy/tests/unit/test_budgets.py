"""Budget reservations without Redis: the worst-case price, the index, headers and the 429."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from gateway_proto.v1.budget_pb2 import BUDGET_SCOPE_KEY, BUDGET_SCOPE_TENANT, BudgetLimit
from gateway_proto.v1.pricing_pb2 import ModelPricing
from gateway_proxy.budget_index import index_budgets
from gateway_proxy.budgets import BudgetPlanner, format_reset, format_usd, max_cost_micro_usd
from gateway_proxy.tokens import TokenEstimator

# 2026-03-29 10:00 UTC: Paris has just switched to summer time (the month still started at 23:00 UTC).
NOW = datetime(2026, 3, 29, 10, 0, tzinfo=UTC).timestamp()
PRICING = ModelPricing(
    input_micro_usd_per_mtok=2_500_000,
    output_micro_usd_per_mtok=10_000_000,
    cached_input_micro_usd_per_mtok=1_250_000,
    reasoning_micro_usd_per_mtok=10_000_000,
    cache_write_input_micro_usd_per_mtok=3_125_000,
    priced=True,
)


def limits(*items: BudgetLimit) -> list[BudgetLimit]:
    return list(items)


KEY_MONTHLY = BudgetLimit(
    id="b-key",
    scope=BUDGET_SCOPE_KEY,
    scope_id="k1",
    limit_micro_usd=5_000_000,
    period="monthly",
    timezone="Europe/Paris",
    hard=True,
)
TENANT_ROLLING = BudgetLimit(
    id="b-tenant",
    scope=BUDGET_SCOPE_TENANT,
    scope_id="t1",
    limit_micro_usd=9_000_000,
    period="rolling",
    rolling_days=7,
    timezone="UTC",
    hard=True,
)
SOFT = BudgetLimit(
    id="b-soft", scope=BUDGET_SCOPE_TENANT, scope_id="t1", limit_micro_usd=1, period="daily", hard=False
)


def planner(default_output: int = 4096) -> BudgetPlanner:
    return BudgetPlanner(
        TokenEstimator(), default_output_tokens=default_output, hold_ttl_s=900, clock=lambda: NOW
    )


def test_the_worst_case_prices_every_token_at_its_highest_rate_and_rounds_up() -> None:
    # 1,000 prompt tokens at the cache-write price (the highest input rate), 10 out at $10 / 1M.
    assert max_cost_micro_usd(PRICING, 1_000, 10) == 3_125 + 100
    assert max_cost_micro_usd(PRICING, 1, 0) == 4  # 3.125 micro-USD rounds up
    assert max_cost_micro_usd(ModelPricing(), 0, 0) == 1  # never 0: an empty budget refuses everything


def test_money_and_times_are_formatted_exactly() -> None:
    assert format_usd(1_500_000) == "1.500000"
    assert format_usd(7) == "0.000007"
    assert format_usd(-3) == "0.000000"
    assert format_reset(datetime(2026, 4, 1, 0, 0, tzinfo=UTC)) == "2026-04-01T00:00:00Z"


def test_the_index_keeps_hard_budgets_of_the_key_then_its_tenant() -> None:
    index = index_budgets(limits(TENANT_ROLLING, SOFT, KEY_MONTHLY))
    assert [b.id for b in index.applicable("k1", "t1")] == ["b-key", "b-tenant"]
    assert index.applicable("k2", "t2") == ()
    assert [b.id for b in index.applicable("k2", "t1")] == ["b-tenant"]


@pytest.mark.parametrize(
    ("body", "endpoint", "output_tokens"),
    [
        ({"max_completion_tokens": 100, "max_tokens": 999}, "chat_completions", 100),
        ({"max_tokens": 50, "n": 3}, "chat_completions", 150),
        ({}, "chat_completions", 4096),
        ({"max_tokens": True}, "completions", 4096),  # a bool is not a token count
        ({"max_tokens": 50}, "embeddings", 0),
    ],
)
async def test_the_reply_is_reserved_from_max_tokens_or_the_default(
    body: dict[str, object], endpoint: str, output_tokens: int
) -> None:
    index = index_budgets(limits(KEY_MONTHLY))
    reservation = await planner().plan(
        index, "k1", "t1", PRICING, endpoint, {"model": "m", "input": "", **body}
    )
    assert reservation is not None
    assert reservation.amount == max_cost_micro_usd(PRICING, 0, output_tokens)


async def test_periods_and_keys_follow_each_budgets_zone() -> None:
    reservation = await planner().plan(
        index_budgets(limits(KEY_MONTHLY, TENANT_ROLLING)),
        "k1",
        "t1",
        PRICING,
        "chat_completions",
        {"max_tokens": 1},
    )
    assert reservation is not None
    monthly, rolling = reservation.charges
    assert monthly.period.start == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)  # Paris midnight, winter time
    assert monthly.period.end == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # Paris midnight, summer time
    assert monthly.keys.reserved == f"gw:budget:b-key:{monthly.period_start_unix}:reserved"
    assert rolling.period.start == datetime(2026, 3, 23, tzinfo=UTC)
    assert [h.budget_id for h in reservation.holds()] == ["b-key", "b-tenant"]
    assert {h.hold_id for h in reservation.holds()} == {reservation.hold_id}


async def test_no_hard_budget_means_no_reservation() -> None:
    assert (
        await planner().plan(index_budgets(limits(SOFT)), "k1", "t1", PRICING, "chat_completions", {}) is None
    )


async def test_an_exhausted_budget_is_openais_insufficient_quota_429() -> None:
    reservation = await planner().plan(
        index_budgets(limits(KEY_MONTHLY)), "k1", "t1", PRICING, "chat_completions", {"max_tokens": 10}
    )
    assert reservation is not None
    error = reservation.refusal(1, 42)
    response = error.response()
    assert response.status_code == 429
    payload = json.loads(bytes(response.body))
    assert set(payload) == {"error"}
    assert payload["error"]["type"] == "insufficient_quota"
    assert payload["error"]["code"] == "insufficient_quota"
    assert payload["error"]["param"] is None
    message = payload["error"]["message"]
    assert "the monthly budget of this API key (budget b-key)" in message
    assert "$5.000000" in message
    assert "$0.000042 left" in message
    assert "resets at 2026-03-31T22:00:00Z" in message
    assert response.headers["x-gateway-budget-remaining-usd"] == "0.000042"
    assert response.headers["x-gateway-budget-reset"] == "2026-03-31T22:00:00Z"
    assert "retry-after" not in response.headers  # quota is not retryable by waiting a second
