"""The Foundation slice: one request through every service, driven by the official openai SDK.

control API → Redis key record + NATS config snapshot → proxy → fake upstream → JetStream usage
event → accounting → Postgres → control's usage summary (over gRPC). Then revocation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from gateway_devstack.provisioning import INPUT_PRICE, OUTPUT_PRICE, Tenant, eventually, provision_tenant
from gateway_devstack.seed import ControlClient
from gateway_devstack.system import GatewaySystem

Sdk = Callable[[str], openai.OpenAI]


@pytest.fixture
def sdk(system: GatewaySystem) -> Iterator[Sdk]:
    """Official SDK clients for the proxy, one per key, closed when the test ends."""
    made: dict[str, openai.OpenAI] = {}

    def make(api_key: str) -> openai.OpenAI:
        if api_key not in made:
            made[api_key] = openai.OpenAI(
                base_url=system.proxy_url, api_key=api_key, max_retries=0, timeout=30.0
            )
        return made[api_key]

    yield make
    for client in made.values():
        client.close()


def _wait_until_served(sdk: Sdk, tenant: Tenant) -> None:
    """The proxy learns about a new key and model asynchronously (Redis + NATS KV)."""

    def served() -> bool | None:
        try:
            ids = [m.id for m in sdk(tenant.api_key).models.list()]
        except openai.APIStatusError as exc:
            # 401 until the key record lands in Redis, 503 until the first snapshot arrives.
            if exc.status_code in (401, 403, 404, 503):
                return None
            raise
        return True if tenant.model in ids else None

    eventually(served, timeout=10)


def _cost(prompt: int, completion: int) -> int:
    return -(-(prompt * INPUT_PRICE + completion * OUTPUT_PRICE) // 1_000_000)


@pytest.mark.e2e
def test_one_request_through_every_service(sdk: Sdk, admin: ControlClient, system: GatewaySystem) -> None:
    tenant = provision_tenant(admin, system, "slice")
    _wait_until_served(sdk, tenant)
    client = sdk(tenant.api_key)

    completion = client.chat.completions.create(
        model=tenant.model, messages=[{"role": "user", "content": "hello gateway"}]
    )
    assert completion.choices[0].message.content
    assert completion.usage is not None
    expected_cost = _cost(completion.usage.prompt_tokens, completion.usage.completion_tokens)

    stream = client.chat.completions.create(
        model=tenant.model,
        messages=[{"role": "user", "content": "stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, stream_usage = "", None
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage is not None:
            stream_usage = chunk.usage
    assert text
    assert stream_usage is not None
    expected_cost += _cost(stream_usage.prompt_tokens, stream_usage.completion_tokens)
    expected_tokens = completion.usage.prompt_tokens + stream_usage.prompt_tokens

    def summary() -> dict[str, Any] | None:
        body: dict[str, Any] = admin.get("/api/v1/usage/summary", tenant_id=tenant.tenant_id)
        return body if body["requests"] == 2 else None

    started = time.monotonic()
    totals = eventually(summary, timeout=5, interval=0.1)
    assert time.monotonic() - started < 5
    assert totals["cost_micro_usd"] == expected_cost > 0
    assert totals["prompt_tokens"] == expected_tokens

    upstream = httpx.get(
        system.fake_upstream_url.removesuffix("/v1") + "/_fake/requests", trust_env=False
    ).json()
    seen = [
        r
        for r in upstream
        if r["body"] and r["body"].get("messages", [{}])[0].get("content") == "hello gateway"
    ]
    assert seen, "the request never reached the upstream"
    for record in seen:
        headers = {k.lower(): v for k, v in record["headers"]}
        assert tenant.api_key not in headers.get("authorization", "")
        assert headers.get("authorization") == f"Bearer {system.secrets.upstream_api_key}"


@pytest.mark.e2e
def test_revoked_key_is_refused_within_one_second(
    sdk: Sdk, admin: ControlClient, system: GatewaySystem
) -> None:
    tenant = provision_tenant(admin, system, "slice")
    _wait_until_served(sdk, tenant)
    client = sdk(tenant.api_key)
    client.chat.completions.create(
        model=tenant.model, messages=[{"role": "user", "content": "warm the cache"}]
    )

    revoked_at = time.monotonic()
    admin.post(f"/api/v1/keys/{tenant.key_id}/revoke", {})

    def refused() -> bool | None:
        try:
            client.models.list()
        except openai.AuthenticationError as exc:
            return exc.code == "invalid_api_key"
        return None

    assert eventually(refused, timeout=1.0, interval=0.02) is True
    assert time.monotonic() - revoked_at < 1.0


@pytest.mark.e2e
def test_missing_and_invalid_keys_get_401(sdk: Sdk, system: GatewaySystem, proxy_http: httpx.Client) -> None:
    body = {"model": "demo", "messages": [{"role": "user", "content": "x"}]}
    missing = proxy_http.post("/chat/completions", json=body)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError) as caught:
        sdk("sk-gw-not-a-real-key").chat.completions.create(
            model="demo", messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.code == "invalid_api_key"


@pytest.mark.e2e
def test_unknown_model_is_404_and_malformed_json_is_400(
    sdk: Sdk, admin: ControlClient, system: GatewaySystem, proxy_http: httpx.Client
) -> None:
    tenant = provision_tenant(admin, system, "slice")
    _wait_until_served(sdk, tenant)
    with pytest.raises(openai.NotFoundError) as caught:
        sdk(tenant.api_key).chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.code == "model_not_found"

    malformed = proxy_http.post(
        "/chat/completions",
        content=b'{"model": "x", "messages": [',
        headers={"Authorization": f"Bearer {tenant.api_key}", "content-type": "application/json"},
    )
    assert malformed.status_code == 400
    error = malformed.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"]

    before = admin.get("/api/v1/usage/summary", tenant_id=tenant.tenant_id)["requests"]
    time.sleep(1.0)
    after = admin.get("/api/v1/usage/summary", tenant_id=tenant.tenant_id)["requests"]
    assert before == after == 0, "refused requests must not produce usage"
