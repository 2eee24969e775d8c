"""What a request cost, in integer micro-USD, from its token usage and its model's prices.

Prices are integer micro-USD per million tokens (`ModelPricing`), so the exact cost of a request
is a rational number with denominator 1,000,000. The rule:

- cached prompt tokens are charged at the cached-input price, or at the input price when the
  cached price is 0 (no discount configured);
- prompt tokens written to the prompt cache are charged at the cache-write price, or at the
  input price when that is 0;
- the rest of the prompt is charged at the input price;
- reasoning tokens (part of the completion, as providers report them) are charged at the
  reasoning price when one is set, else at the output price;
- the rest of the completion is charged at the output price.

The four products are summed exactly (Python integers do not overflow) and the sum is rounded
UP to a whole micro-USD once per request: ceil(numerator / 1,000,000). Rounding once, not per
token class, keeps the error below one micro-USD per request; rounding up means the gateway never
undercharges. A cached or reasoning count larger than its total is clamped to the total, and a
negative count, a negative price or a cost beyond a Postgres bigint is refused (`CostError`).
"""

from __future__ import annotations

from gateway_proto.v1.pricing_pb2 import ModelPricing
from gateway_proto.v1.usage_pb2 import TokenUsage

TOKENS_PER_PRICE_UNIT = 1_000_000
MAX_COST_MICRO_USD = 2**63 - 1  # Postgres bigint


class CostError(ValueError):
    """The usage or the prices cannot produce a cost (negative counts or prices, overflow)."""


def _non_negative(name: str, value: int) -> int:
    if value < 0:
        raise CostError(f"{name} must not be negative, got {value}")
    return value


def cost_numerator(usage: TokenUsage, pricing: ModelPricing) -> int:
    """The exact cost in micro-USD multiplied by 1,000,000 (before the single rounding step)."""
    prompt = _non_negative("prompt_tokens", usage.prompt_tokens)
    completion = _non_negative("completion_tokens", usage.completion_tokens)
    cached = min(_non_negative("cached_prompt_tokens", usage.cached_prompt_tokens), prompt)
    written = min(
        _non_negative("cache_write_prompt_tokens", usage.cache_write_prompt_tokens), prompt - cached
    )
    reasoning = min(_non_negative("reasoning_tokens", usage.reasoning_tokens), completion)

    input_price = _non_negative("input price", pricing.input_micro_usd_per_mtok)
    output_price = _non_negative("output price", pricing.output_micro_usd_per_mtok)
    cached_price = _non_negative("cached input price", pricing.cached_input_micro_usd_per_mtok)
    reasoning_price = _non_negative("reasoning price", pricing.reasoning_micro_usd_per_mtok)
    write_price = _non_negative("cache write price", pricing.cache_write_input_micro_usd_per_mtok)

    return (
        cached * (cached_price or input_price)
        + written * (write_price or input_price)
        + (prompt - cached - written) * input_price
        + reasoning * (reasoning_price or output_price)
        + (completion - reasoning) * output_price
    )


def request_cost_micro_usd(usage: TokenUsage, pricing: ModelPricing) -> int:
    """The request's cost in whole micro-USD, rounded up once (see the module docstring)."""
    numerator = cost_numerator(usage, pricing)
    cost = -(-numerator // TOKENS_PER_PRICE_UNIT)
    if cost > MAX_COST_MICRO_USD:
        raise CostError(f"cost {cost} micro-USD does not fit in a bigint")
    return cost
