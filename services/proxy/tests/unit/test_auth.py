"""Key extraction from headers, key-record checks and model/endpoint scopes."""

from __future__ import annotations

import time

import pytest
from gateway_common.apikeys import generate_key, key_digest
from gateway_proto.v1.keys_pb2 import KeyRecord, TenantStatus
from gateway_proto.v1.pricing_pb2 import ModelPricing
from gateway_providers import Endpoint
from gateway_proxy.auth import Authenticator, Principal, check_usable, extract_api_key
from gateway_proxy.errors import AuthenticationFailed, PermissionDenied, ServiceUnavailable
from gateway_proxy.key_cache import KeyCache
from gateway_proxy.keys import KeyResolver, KeyStoreUnavailable
from gateway_proxy.runtime import ModelRuntime, RouteRuntime, Timeouts
from starlette.datastructures import Headers


def headers(**values: str) -> Headers:
    return Headers({k.replace("_", "-"): v for k, v in values.items()})


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"authorization": "Bearer sk-gw-abc"}, "sk-gw-abc"),
        ({"Authorization": "bearer   sk-gw-abc  "}, "sk-gw-abc"),
        ({"api-key": "sk-gw-azure"}, "sk-gw-azure"),
        ({"x-api-key": "sk-gw-anthropic"}, "sk-gw-anthropic"),
        # Authorization wins over the other two.
        ({"authorization": "Bearer first", "api-key": "second", "x-api-key": "third"}, "first"),
        # Another scheme is not a bearer key; the other headers still count.
        ({"authorization": "Basic dXNlcjpwYXNz", "x-api-key": "sk-gw-x"}, "sk-gw-x"),
        ({"authorization": "Basic dXNlcjpwYXNz"}, None),
        ({"authorization": "Bearer "}, None),
        ({"api-key": "   "}, None),
        ({}, None),
    ],
)
def test_extract_api_key(given: dict[str, str], expected: str | None) -> None:
    assert extract_api_key(Headers(given)) == expected


def record(**fields: object) -> KeyRecord:
    base: dict[str, object] = {"key_id": "k1", "digest": "d", "tenant_id": "t1", "user_id": "u1"}
    base.update(fields)
    return KeyRecord(**base)  # type: ignore[arg-type]


def test_check_usable_accepts_an_active_key() -> None:
    check_usable(record(tenant_status=TenantStatus.TENANT_STATUS_ACTIVE), time.time())
    check_usable(record(), time.time())  # unspecified status counts as active


@pytest.mark.parametrize(
    ("fields", "error", "code"),
    [
        ({"revoked": True}, AuthenticationFailed, "invalid_api_key"),
        ({"disabled": True}, AuthenticationFailed, "invalid_api_key"),
        ({"tenant_status": TenantStatus.TENANT_STATUS_SUSPENDED}, PermissionDenied, "tenant_suspended"),
    ],
)
def test_check_usable_refuses(fields: dict[str, object], error: type[Exception], code: str) -> None:
    with pytest.raises(error) as raised:
        check_usable(record(**fields), time.time())
    assert raised.value.code == code


def test_check_usable_refuses_an_expired_key_only_after_expiry() -> None:
    rec = record()
    rec.expires_at.FromSeconds(1_000)
    check_usable(rec, 999.0)
    with pytest.raises(AuthenticationFailed, match="expired"):
        check_usable(rec, 1_000.5)


def model(name: str, model_id: str) -> ModelRuntime:
    timeouts = Timeouts(1, 1, 1, 1, 1)
    return ModelRuntime(
        id=model_id,
        name=name,
        owned_by="x",
        created_unix=0,
        pricing=ModelPricing(priced=True),
        timeouts=timeouts,
        route=RouteRuntime("", 1, (), ()),
        servable=True,
    )


def test_model_scopes_intersect_key_and_tenant_lists_by_name_or_id() -> None:
    gpt, llama, other = model("gpt", "m-gpt"), model("llama", "m-llama"), model("other", "m-other")
    everything = Principal.from_record(record())
    assert all(everything.may_use(m) for m in (gpt, llama, other))
    key_limited = Principal.from_record(record(allowed_models=["gpt", "m-llama"]))
    assert key_limited.may_use(gpt)
    assert key_limited.may_use(llama)
    assert not key_limited.may_use(other)
    both = Principal.from_record(record(allowed_models=["gpt", "llama"], tenant_models=["llama", "other"]))
    assert [m.name for m in (gpt, llama, other) if both.may_use(m)] == ["llama"]


def test_endpoint_scope_accepts_endpoint_names_and_paths() -> None:
    assert Principal.from_record(record()).may_call(Endpoint.EMBEDDINGS)
    scoped = Principal.from_record(record(allowed_endpoints=["chat_completions", "/v1/models"]))
    assert scoped.may_call(Endpoint.CHAT_COMPLETIONS)
    assert scoped.may_call(Endpoint.MODELS)
    assert not scoped.may_call(Endpoint.EMBEDDINGS)


class DictStore:
    """A key store held in a dict, counting how often it is asked (a stand-in for Redis)."""

    def __init__(self, records: dict[str, KeyRecord], *, down: bool = False) -> None:
        self.records = records
        self.down = down
        self.calls = 0

    async def fetch(self, digest: str) -> KeyRecord | None:
        self.calls += 1
        if self.down:
            raise KeyStoreUnavailable("down")
        return self.records.get(digest)


PEPPER = b"pepper"


def authenticator(store: DictStore) -> Authenticator:
    cache = KeyCache(ttl_s=30, max_entries=10, negative_ttl_s=5, max_negative=10)
    return Authenticator(KeyResolver(cache, store), PEPPER)


async def test_authenticate_refuses_malformed_keys_without_any_lookup() -> None:
    store = DictStore({})
    auth = authenticator(store)
    valid = generate_key()
    bad_checksum = valid[:-1] + ("1" if valid.endswith("0") else "0")  # always a different last char
    for bad in ("sk-gw-short", bad_checksum, "sk-proj-abc"):
        with pytest.raises(AuthenticationFailed):
            await auth.authenticate(headers(authorization=f"Bearer {bad}"))
    with pytest.raises(AuthenticationFailed, match="didn't provide"):
        await auth.authenticate(headers())
    assert store.calls == 0


async def test_authenticate_finds_a_key_by_digest_and_caches_unknown_keys() -> None:
    key, unknown = generate_key(), generate_key()
    digest = key_digest(PEPPER, key)
    store = DictStore({digest: record(digest=digest, key_id="kid")})
    auth = authenticator(store)
    principal = await auth.authenticate(headers(x_api_key=key))
    assert principal.key_id == "kid"
    await auth.authenticate(headers(api_key=key))
    assert store.calls == 1  # the second one came from the cache
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            await auth.authenticate(headers(authorization=f"Bearer {unknown}"))
    assert store.calls == 2  # the unknown digest was asked once, then negatively cached


async def test_authenticate_reports_a_down_key_store_as_503() -> None:
    auth = authenticator(DictStore({}, down=True))
    with pytest.raises(ServiceUnavailable) as raised:
        await auth.authenticate(headers(authorization=f"Bearer {generate_key()}"))
    assert raised.value.status == 503
    assert raised.value.code == "key_store_unavailable"


async def test_a_refreshed_record_gets_its_own_principal() -> None:
    """The Principal is built once per cached record; a new record (after an invalidation) is
    read again, so a changed scope applies at once."""
    key = generate_key()
    digest = key_digest(PEPPER, key)
    store = DictStore({digest: record(digest=digest, allowed_models=["a"])})
    auth = authenticator(store)
    first = await auth.authenticate(headers(x_api_key=key))
    assert await auth.authenticate(headers(x_api_key=key)) is first
    store.records[digest] = record(digest=digest, allowed_models=["b"])
    auth.resolver.cache.invalidate(digest=digest)
    refreshed = await auth.authenticate(headers(x_api_key=key))
    assert refreshed is not first
    assert refreshed.allowed_models == frozenset({"b"})
