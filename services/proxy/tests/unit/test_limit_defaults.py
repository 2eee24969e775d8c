"""Rate-limit defaults: control's snapshot defaults over the DEFAULT_* settings, field by field."""

from __future__ import annotations

from typing import cast

from gateway_proto.v1.config_pb2 import RateLimits
from gateway_proto.v1.keys_pb2 import KeyRecord
from gateway_proxy.auth import Principal
from gateway_proxy.guards import Guards
from gateway_proxy.idempotency import IdempotencyStore
from gateway_proxy.limits import Limits, RateLimiter, effective_limits, with_snapshot_defaults

ENV = Limits(key_rpm=50, key_tpm=1000, key_parallel=0, tenant_rpm=500, tenant_tpm=0, tenant_parallel=9)


def test_a_non_zero_snapshot_default_wins_and_zero_falls_back_to_the_setting() -> None:
    merged = with_snapshot_defaults(ENV, RateLimits(rpm=2, max_parallel=3), RateLimits(tpm=7000))
    assert merged == Limits(
        key_rpm=2, key_tpm=1000, key_parallel=3, tenant_rpm=500, tenant_tpm=7000, tenant_parallel=9
    )
    assert with_snapshot_defaults(ENV, RateLimits(), RateLimits()) == ENV


def test_overrides_of_the_key_and_tenant_still_beat_every_default() -> None:
    record = KeyRecord(key_limits=RateLimits(rpm=100, tpm=-1), tenant_limits=RateLimits(max_parallel=4))
    principal = Principal.from_record(record)
    limits = effective_limits(principal, with_snapshot_defaults(ENV, RateLimits(rpm=2, tpm=5), RateLimits()))
    assert (limits.key_rpm, limits.key_tpm, limits.tenant_parallel, limits.tenant_rpm) == (100, 0, 4, 500)


def test_guards_merge_once_per_snapshot() -> None:
    guards = Guards(cast(RateLimiter, None), cast(IdempotencyStore, None), ENV)
    assert guards._defaults_for(None) is ENV
    first = (RateLimits(rpm=2), RateLimits())
    merged = guards._defaults_for(first)
    assert merged.key_rpm == 2
    assert guards._defaults_for(first) is merged  # same snapshot: no new merge
    second = (RateLimits(), RateLimits(rpm=9))
    assert (guards._defaults_for(second).key_rpm, guards._defaults_for(second).tenant_rpm) == (50, 9)
