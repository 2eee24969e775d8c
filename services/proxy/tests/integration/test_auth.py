"""Virtual keys at the proxy: 401/403 refusals, model visibility, and revocation within 1 s."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import openai
import pytest
from gateway_common.apikeys import generate_key
from gateway_proto.v1.keys_pb2 import TenantStatus

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness

MESSAGES = [{"role": "user", "content": "hi"}]


def error_fields(exc: openai.APIStatusError) -> dict[str, object]:
    body = exc.response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    fields: dict[str, object] = body["error"]
    return fields


async def test_missing_key_is_401_invalid_api_key(running: Harness) -> None:
    async with running.http() as http:
        response = await http.post("/v1/chat/completions", json={"model": "demo", "messages": MESSAGES})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(
    "key",
    [
        "sk-not-ours",
        "sk-gw-" + "A" * 38,  # right shape, wrong checksum
        generate_key(),  # well formed but unknown
    ],
)
async def test_invalid_keys_are_401(running: Harness, key: str) -> None:
    with pytest.raises(openai.AuthenticationError) as raised:
        await running.client(key).chat.completions.create(model="demo", messages=MESSAGES)
    assert raised.value.status_code == 401
    assert error_fields(raised.value)["code"] == "invalid_api_key"


@pytest.mark.parametrize("header", ["api-key", "x-api-key"])
async def test_azure_and_anthropic_style_key_headers_are_accepted(running: Harness, header: str) -> None:
    key, _ = await running.create_key()
    async with running.http() as http:
        response = await http.post(
            "/v1/chat/completions", json={"model": "demo", "messages": MESSAGES}, headers={header: key}
        )
    assert response.status_code == 200, response.text


async def test_disabled_and_expired_keys_are_401(running: Harness) -> None:
    disabled, _ = await running.create_key(disabled=True)
    expired, record = await running.create_key()
    record.expires_at.FromSeconds(int(time.time()) - 60)
    await running.put_record(record)
    for key in (disabled, expired):
        with pytest.raises(openai.AuthenticationError):
            await running.client(key).chat.completions.create(model="demo", messages=MESSAGES)


async def test_suspended_tenant_is_403_tenant_suspended(running: Harness) -> None:
    key, _ = await running.create_key(tenant_status=TenantStatus.TENANT_STATUS_SUSPENDED)
    with pytest.raises(openai.PermissionDeniedError) as raised:
        await running.client(key).chat.completions.create(model="demo", messages=MESSAGES)
    assert error_fields(raised.value)["code"] == "tenant_suspended"


async def test_unknown_model_is_404_model_not_found(running: Harness) -> None:
    key, _ = await running.create_key()
    with pytest.raises(openai.NotFoundError) as raised:
        await running.client(key).chat.completions.create(model="no-such-model", messages=MESSAGES)
    fields = error_fields(raised.value)
    assert fields["code"] == "model_not_found"
    assert fields["param"] == "model"


async def test_a_model_outside_the_keys_scope_is_404_like_openai(running: Harness) -> None:
    key, _ = await running.create_key(allowed_models=["demo"])
    with pytest.raises(openai.NotFoundError) as raised:
        await running.client(key).chat.completions.create(model="secret-model", messages=MESSAGES)
    assert error_fields(raised.value)["code"] == "model_not_found"
    tenant_scoped, _ = await running.create_key(tenant_models=["secret-model"])
    with pytest.raises(openai.NotFoundError):
        await running.client(tenant_scoped).chat.completions.create(model="demo", messages=MESSAGES)
    done = await running.client(tenant_scoped).chat.completions.create(
        model="secret-model", messages=MESSAGES
    )
    assert done.choices[0].message.content == "echo: hi"


async def test_refusals_produce_no_usage_event(running: Harness) -> None:
    before = await running.quiet_usage_count()
    with pytest.raises(openai.AuthenticationError):
        await running.client(generate_key()).chat.completions.create(model="demo", messages=MESSAGES)
    key, _ = await running.create_key()
    with pytest.raises(openai.NotFoundError):
        await running.client(key).chat.completions.create(model="nope", messages=MESSAGES)
    await asyncio.sleep(0.5)
    assert await running.usage_count() == before


async def test_revocation_refuses_the_key_within_one_second(running: Harness) -> None:
    key, record = await running.create_key()
    client = running.client(key)
    await client.chat.completions.create(model="demo", messages=MESSAGES)  # now cached in the proxy

    record.revoked = True
    await running.put_record(record)
    # Without the invalidation the cached record still serves (the cache is what we test).
    await client.chat.completions.create(model="demo", messages=MESSAGES)

    revoked_at = time.monotonic()
    await running.invalidate(record)
    while True:
        try:
            await client.chat.completions.create(model="demo", messages=MESSAGES)
        except openai.AuthenticationError:
            break
        assert time.monotonic() - revoked_at < 1.0, "revoked key still accepted after 1 s"
        await asyncio.sleep(0.02)
    assert time.monotonic() - revoked_at < 1.0


async def test_unknown_key_becomes_valid_once_invalidated(running: Harness) -> None:
    """A key looked up before control wrote it is negatively cached; the invalidation clears that."""
    key, record = await running.create_key()
    await running.redis.delete(f"gw:key:{record.digest}")
    with pytest.raises(openai.AuthenticationError):
        await running.client(key).chat.completions.create(model="demo", messages=MESSAGES)
    await running.put_record(record)
    await running.invalidate(record)
    deadline = time.monotonic() + 1.0
    while True:
        try:
            await running.client(key).chat.completions.create(model="demo", messages=MESSAGES)
            break
        except openai.AuthenticationError:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
