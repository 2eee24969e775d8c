"""From message bytes to a usage row: what is stored, and what is refused as poison."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from gateway_accounting.errors import PoisonMessage
from gateway_accounting.events import usage_row, usage_row_from_message
from gateway_accounting.store import unique_rows
from gateway_proto.v1.pricing_pb2 import ModelPricing
from gateway_proto.v1.usage_pb2 import TokenUsage, UsageEvent
from google.protobuf.timestamp_pb2 import Timestamp

TENANT, KEY, USER, DEPLOYMENT = (str(uuid.uuid4()) for _ in range(4))
FINISHED = datetime(2026, 3, 10, 14, 30, 5, 250_000, tzinfo=UTC)


def ts(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def event(**overrides: object) -> UsageEvent:
    fields: dict[str, object] = {
        "request_id": "req-1",
        "started_at": ts(FINISHED - timedelta(seconds=2)),
        "finished_at": ts(FINISHED),
        "tenant_id": TENANT,
        "key_id": KEY,
        "user_id": USER,
        "endpoint": "chat.completions",
        "model": "demo",
        "deployment_id": DEPLOYMENT,
        "provider": "openai",
        "status_code": 200,
        "stream": True,
        "usage": TokenUsage(
            prompt_tokens=100, completion_tokens=50, cached_prompt_tokens=20, reasoning_tokens=5
        ),
        "pricing": ModelPricing(input_micro_usd_per_mtok=1_000_000, output_micro_usd_per_mtok=2_000_000),
        "pricing_revision": 3,
        "duration_us": 2_000_999,
    }
    fields.update(overrides)
    return UsageEvent(**fields)  # type: ignore[arg-type]


def test_a_complete_event_becomes_a_priced_row() -> None:
    row = usage_row_from_message(event().SerializeToString())
    assert row.request_id == "req-1"
    assert (row.tenant_id, row.key_id, row.user_id, row.deployment_id) == tuple(
        uuid.UUID(v) for v in (TENANT, KEY, USER, DEPLOYMENT)
    )
    assert row.cost_micro_usd == 200  # 100 * 1 + 50 * 2
    assert (row.prompt_tokens, row.completion_tokens, row.cached_tokens, row.reasoning_tokens) == (
        100,
        50,
        20,
        5,
    )
    assert row.started_at == FINISHED - timedelta(seconds=2)
    assert row.finished_at == FINISHED
    assert row.finished_at.tzinfo is not None
    assert row.latency_ms == 2000
    assert row.stream is True
    assert row.error_code is None
    assert row.is_error is False


def test_optional_fields_default_sensibly() -> None:
    bare = event(user_id="", deployment_id="", provider="", endpoint="", error_code="")
    bare.ClearField("started_at")
    row = usage_row(bare)
    assert (row.user_id, row.deployment_id, row.provider, row.error_code) == (None, None, "", None)
    assert row.endpoint == "unknown"
    assert row.started_at == row.finished_at


def test_error_statuses_count_as_errors() -> None:
    assert usage_row(event(status_code=429, error_code="rate_limited")).is_error


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"request_id": ""}, "request_id"),
        ({"request_id": "x" * 201}, "request_id"),
        ({"tenant_id": ""}, "tenant_id is missing"),
        ({"tenant_id": "acme"}, "tenant_id 'acme' is not a UUID"),
        ({"key_id": "k"}, "key_id"),
        ({"user_id": "someone"}, "user_id"),
        ({"model": ""}, "model"),
        ({"status_code": 0}, "status_code"),
        ({"status_code": 600}, "status_code"),
        ({"started_at": ts(FINISHED + timedelta(seconds=1))}, "started_at is after finished_at"),
        ({"duration_us": -5000}, "duration_us"),
        ({"pricing_revision": -1}, "pricing_revision"),
        ({"usage": TokenUsage(prompt_tokens=-1)}, "cannot price"),
    ],
)
def test_invalid_events_are_poison(overrides: dict[str, object], reason: str) -> None:
    with pytest.raises(PoisonMessage, match=reason):
        usage_row(event(**overrides))


def test_missing_finished_at_is_poison() -> None:
    incomplete = event()
    incomplete.ClearField("finished_at")
    with pytest.raises(PoisonMessage, match="finished_at"):
        usage_row(incomplete)


@pytest.mark.parametrize("payload", [b"\xff\xfe\xfd", b"not protobuf at all", b"\x0a\xff"])
def test_undecodable_bytes_are_poison(payload: bytes) -> None:
    with pytest.raises(PoisonMessage, match="undecodable"):
        usage_row_from_message(payload)


def test_an_empty_body_is_poison_not_an_empty_row() -> None:
    with pytest.raises(PoisonMessage, match="request_id"):
        usage_row_from_message(b"")


def test_batches_keep_the_first_row_of_each_request_in_id_order() -> None:
    a1, b, a2 = (
        usage_row(event(request_id="a")),
        usage_row(event(request_id="b")),
        usage_row(event(request_id="a", pricing_revision=9)),
    )
    assert unique_rows([b, a1, a2]) == [a1, b]
