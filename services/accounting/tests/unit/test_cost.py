"""Cost rules: each token class at its price, one upward rounding per request, exact big numbers."""

from __future__ import annotations

import pytest
from gateway_accounting.cost import MAX_COST_MICRO_USD, CostError, cost_numerator, request_cost_micro_usd
from gateway_proto.v1.pricing_pb2 import ModelPricing
from gateway_proto.v1.usage_pb2 import TokenUsage

# $2.50 / $10.00 per million tokens in, out; $1.25 cached; reasoning unset.
GPT4O = ModelPricing(
    input_micro_usd_per_mtok=2_500_000,
    output_micro_usd_per_mtok=10_000_000,
    cached_input_micro_usd_per_mtok=1_250_000,
    priced=True,
)


def test_plain_prompt_and_completion() -> None:
    usage = TokenUsage(prompt_tokens=1000, completion_tokens=500)
    # 1000 * 2.5 + 500 * 10 = 7500 micro-USD exactly.
    assert request_cost_micro_usd(usage, GPT4O) == 7500


def test_cached_tokens_use_the_cached_price() -> None:
    usage = TokenUsage(prompt_tokens=1000, cached_prompt_tokens=400, completion_tokens=0)
    # 400 * 1.25 + 600 * 2.5 = 500 + 1500
    assert request_cost_micro_usd(usage, GPT4O) == 2000


def test_cached_tokens_fall_back_to_the_input_price() -> None:
    pricing = ModelPricing(input_micro_usd_per_mtok=2_000_000, output_micro_usd_per_mtok=0)
    usage = TokenUsage(prompt_tokens=1000, cached_prompt_tokens=400)
    assert request_cost_micro_usd(usage, pricing) == 2000


def test_reasoning_tokens_use_the_reasoning_price_when_set() -> None:
    pricing = ModelPricing(
        input_micro_usd_per_mtok=0,
        output_micro_usd_per_mtok=10_000_000,
        reasoning_micro_usd_per_mtok=40_000_000,
    )
    usage = TokenUsage(completion_tokens=100, reasoning_tokens=30)
    # 30 * 40 + 70 * 10
    assert request_cost_micro_usd(usage, pricing) == 1900


def test_reasoning_tokens_are_output_without_a_reasoning_price() -> None:
    usage = TokenUsage(completion_tokens=100, reasoning_tokens=30)
    assert request_cost_micro_usd(usage, GPT4O) == 1000


def test_rounds_up_once_per_request_not_per_class() -> None:
    pricing = ModelPricing(input_micro_usd_per_mtok=150_000, output_micro_usd_per_mtok=600_000)
    usage = TokenUsage(prompt_tokens=3, completion_tokens=1)
    # 3 * 0.15 + 1 * 0.6 = 1.05 micro-USD: one rounding gives 2 (per-class rounding would give 3).
    assert cost_numerator(usage, pricing) == 1_050_000
    assert request_cost_micro_usd(usage, pricing) == 2


def test_an_exact_sum_is_not_rounded() -> None:
    pricing = ModelPricing(input_micro_usd_per_mtok=500_000)
    assert request_cost_micro_usd(TokenUsage(prompt_tokens=2), pricing) == 1
    assert request_cost_micro_usd(TokenUsage(prompt_tokens=1), pricing) == 1
    assert request_cost_micro_usd(TokenUsage(prompt_tokens=3), pricing) == 2


def test_a_tiny_cost_is_at_least_one_micro_usd() -> None:
    pricing = ModelPricing(input_micro_usd_per_mtok=1)
    assert request_cost_micro_usd(TokenUsage(prompt_tokens=1), pricing) == 1


@pytest.mark.parametrize(
    "usage",
    [TokenUsage(), TokenUsage(prompt_tokens=10**12, completion_tokens=10**12, cached_prompt_tokens=10)],
)
def test_zero_prices_cost_nothing(usage: TokenUsage) -> None:
    assert request_cost_micro_usd(usage, ModelPricing()) == 0


def test_no_tokens_cost_nothing() -> None:
    assert request_cost_micro_usd(TokenUsage(), GPT4O) == 0


def test_big_numbers_stay_exact() -> None:
    pricing = ModelPricing(
        input_micro_usd_per_mtok=999_999_999_999,
        output_micro_usd_per_mtok=123_456_789_012,
        cached_input_micro_usd_per_mtok=1,
        reasoning_micro_usd_per_mtok=7,
    )
    usage = TokenUsage(
        prompt_tokens=9_000_000_000,
        cached_prompt_tokens=1_000_000_001,
        completion_tokens=5_000_000_003,
        reasoning_tokens=2,
    )
    numerator = (
        1_000_000_001 * 1
        + (9_000_000_000 - 1_000_000_001) * 999_999_999_999
        + 2 * 7
        + (5_000_000_003 - 2) * 123_456_789_012
    )
    assert cost_numerator(usage, pricing) == numerator
    assert request_cost_micro_usd(usage, pricing) == -(-numerator // 1_000_000)
    # 8,617,283,944.176456789028 USD, rounded up to the micro-dollar.
    assert request_cost_micro_usd(usage, pricing) == 8_617_283_944_176_457


def test_a_cost_beyond_bigint_is_refused() -> None:
    pricing = ModelPricing(input_micro_usd_per_mtok=2**62)
    with pytest.raises(CostError, match="bigint"):
        request_cost_micro_usd(TokenUsage(prompt_tokens=2**40), pricing)
    assert request_cost_micro_usd(TokenUsage(prompt_tokens=1), ModelPricing(input_micro_usd_per_mtok=1)) <= (
        MAX_COST_MICRO_USD
    )


def test_cached_and_reasoning_are_clamped_to_their_totals() -> None:
    usage = TokenUsage(prompt_tokens=10, cached_prompt_tokens=50, completion_tokens=5, reasoning_tokens=9)
    pricing = ModelPricing(
        input_micro_usd_per_mtok=1_000_000,
        cached_input_micro_usd_per_mtok=500_000,
        output_micro_usd_per_mtok=2_000_000,
        reasoning_micro_usd_per_mtok=3_000_000,
    )
    # 10 cached at 0.5 + 5 reasoning at 3
    assert request_cost_micro_usd(usage, pricing) == 20


@pytest.mark.parametrize(
    ("usage", "pricing", "name"),
    [
        (TokenUsage(prompt_tokens=-1), GPT4O, "prompt_tokens"),
        (TokenUsage(completion_tokens=-5), GPT4O, "completion_tokens"),
        (TokenUsage(cached_prompt_tokens=-5), GPT4O, "cached_prompt_tokens"),
        (TokenUsage(reasoning_tokens=-5), GPT4O, "reasoning_tokens"),
        (TokenUsage(prompt_tokens=1), ModelPricing(input_micro_usd_per_mtok=-1), "input price"),
        (TokenUsage(prompt_tokens=1), ModelPricing(output_micro_usd_per_mtok=-1), "output price"),
    ],
)
def test_negative_inputs_are_refused(usage: TokenUsage, pricing: ModelPricing, name: str) -> None:
    with pytest.raises(CostError, match=name):
        request_cost_micro_usd(usage, pricing)


def test_cache_writes_use_the_cache_write_price_or_the_input_price() -> None:
    usage = TokenUsage(prompt_tokens=1_000, cached_prompt_tokens=200, cache_write_prompt_tokens=300)
    priced = ModelPricing(
        input_micro_usd_per_mtok=3_000_000,
        cached_input_micro_usd_per_mtok=300_000,
        cache_write_input_micro_usd_per_mtok=3_750_000,
    )
    # 200 read at 0.30, 300 written at 3.75, 500 plain at 3.00 ($ per million tokens)
    assert cost_numerator(usage, priced) == 200 * 300_000 + 300 * 3_750_000 + 500 * 3_000_000
    unpriced_writes = ModelPricing(
        input_micro_usd_per_mtok=3_000_000, cached_input_micro_usd_per_mtok=300_000
    )
    assert cost_numerator(usage, unpriced_writes) == 200 * 300_000 + 800 * 3_000_000
    # Writes can never exceed what is left of the prompt after the cache reads.
    too_many = TokenUsage(prompt_tokens=100, cached_prompt_tokens=60, cache_write_prompt_tokens=500)
    assert cost_numerator(too_many, priced) == 60 * 300_000 + 40 * 3_750_000
