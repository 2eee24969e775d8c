"""Usage summary, breakdown and request log through accounting's gRPC AccountingService.

A real gRPC server stands in for accounting and records what control asked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gateway_proto.v1 import accounting_pb2

from .fake_accounting import KEY_ID, TENANT_ID


async def test_usage_summary_asks_accounting(start_control: Any, accounting: Any) -> None:
    target, servicer = accounting
    control = start_control(ACCOUNTING_GRPC_TARGET=target)
    tenant_id = "3f2b8a1e-9c4d-4e6f-8a7b-1c2d3e4f5a6b"
    async with control.client(await control.login()) as client:
        response = await client.get(
            "/api/v1/usage/summary",
            params={
                "tenant_id": tenant_id,
                "start": "2026-11-01T00:00:00Z",
                "end": "2026-12-01T00:00:00+01:00",
                "timezone": "Europe/Paris",
            },
        )
        assert response.status_code == 200, response.text
        assert response.json() == {
            "requests": 3,
            "prompt_tokens": 120,
            "completion_tokens": 45,
            "cost_micro_usd": 1234,
            "errors": 1,
        }
        [sent] = servicer.filters
        assert sent.tenant_id == tenant_id
        assert sent.key_id == ""
        assert sent.timezone == "Europe/Paris"
        assert sent.start.ToDatetime(tzinfo=UTC) == datetime(2026, 11, 1, tzinfo=UTC)
        assert sent.end.ToDatetime(tzinfo=UTC) == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)

        for params in (
            {"timezone": "Mars/Olympus"},
            {"start": "2026-11-02T00:00:00Z", "end": "2026-11-01T00:00:00Z"},
            {"start": "2026-11-02T00:00:00"},
        ):
            bad = await client.get("/api/v1/usage/summary", params=params)
            assert bad.status_code == 422, bad.text
        assert (await client.get("/api/v1/usage/summary", params={"tenant_id": "nope"})).status_code == 400
        assert len(servicer.filters) == 1


async def test_usage_summary_is_503_when_accounting_is_down(control: Any) -> None:
    async with control.client(await control.login()) as client:
        response = await client.get("/api/v1/usage/summary")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "accounting_unavailable"


async def test_usage_breakdown_groups_by_the_dimension_asked(start_control: Any, accounting: Any) -> None:
    target, servicer = accounting
    control = start_control(ACCOUNTING_GRPC_TARGET=target)
    async with control.client(await control.login()) as client:
        params = {
            "group_by": "day",
            "tenant_id": TENANT_ID,
            "model": "gpt-4o-mini",
            "timezone": "Asia/Tokyo",
        }
        response = await client.get("/api/v1/usage/breakdown", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["group_by"] == "day"
        assert [g["key"] for g in body["groups"]] == ["2026-11-02", "2026-11-03"]
        assert body["groups"][0]["usage"] == {
            "requests": 3,
            "prompt_tokens": 120,
            "completion_tokens": 45,
            "cost_micro_usd": 1234,
            "errors": 1,
        }
        assert body["groups"][1]["usage"]["requests"] == 0
        [sent] = servicer.filters
        assert (sent.tenant_id, sent.model, sent.timezone) == (
            TENANT_ID,
            "gpt-4o-mini",
            "Asia/Tokyo",
        )
        assert servicer.group_by == [accounting_pb2.USAGE_DIMENSION_DAY]

        for dimension, number in (("provider", 5), ("key", 2), ("tenant", 1), ("model", 4)):
            ok = await client.get("/api/v1/usage/breakdown", params={"group_by": dimension})
            assert ok.status_code == 200, ok.text
            assert servicer.group_by[-1] == number
        for bad in ({"group_by": "user"}, {}, {"group_by": "day", "timezone": "Mars/Olympus"}):
            refused = await client.get("/api/v1/usage/breakdown", params=bad)
            assert refused.status_code in (400, 422), refused.text
            assert "error" in refused.json()
        assert len(servicer.group_by) == 5


async def test_usage_requests_pages_through_the_request_log(start_control: Any, accounting: Any) -> None:
    target, servicer = accounting
    control = start_control(ACCOUNTING_GRPC_TARGET=target)
    async with control.client(await control.login()) as client:
        first = await client.get("/api/v1/usage/requests", params={"key_id": KEY_ID, "limit": 20})
        assert first.status_code == 200, first.text
        page = first.json()
        assert page["next_page_token"] == "p2"
        [item] = page["items"]
        assert item["request_id"] == "req-1"
        assert item["latency_ms"] == 1234
        assert item["tenant_id"] == TENANT_ID
        assert item["finished_at"].startswith("2026-11-02T09:30:00")
        second = await client.get("/api/v1/usage/requests", params={"page_token": "p2"})
        assert second.json()["next_page_token"] is None
        assert servicer.pages == [(20, ""), (100, "p2")]
        assert servicer.filters[0].key_id == KEY_ID
        too_many = await client.get("/api/v1/usage/requests", params={"limit": 501})
        assert too_many.status_code == 400, too_many.text
        assert len(servicer.pages) == 2
