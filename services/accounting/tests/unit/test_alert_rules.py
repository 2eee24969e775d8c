"""Which addresses the webhook SSRF guard refuses, and which thresholds a spend has crossed."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import uuid

import pytest
from gateway_accounting.alerts.dispatcher import crossed_thresholds
from gateway_accounting.alerts.ssrf import AddressRefused, GuardedBackend, is_refused
from gateway_accounting.alerts.webhook import sign
from gateway_accounting.budgets.control_catalog import Budget


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "192.0.2.1",  # documentation
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
    ],
)
def test_non_global_addresses_are_refused(address: str) -> None:
    assert is_refused(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_global_addresses_are_allowed(address: str) -> None:
    assert not is_refused(ipaddress.ip_address(address))


async def test_the_guard_refuses_at_connect_time_after_resolving_the_name() -> None:
    backend = GuardedBackend(allow_private=False)
    with pytest.raises(AddressRefused, match=r"localhost resolves to .*127\.0\.0\.1"):
        await backend.connect_tcp("localhost", 9)


def test_signature_covers_timestamp_and_body() -> None:
    expected = hmac.new(b"s", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign("s", 1700000000, b"{}") == f"sha256={expected}"
    assert sign("s", 1700000001, b"{}") != sign("s", 1700000000, b"{}")


def _budget(limit: int, thresholds: tuple[int, ...] = (50, 80, 100)) -> Budget:
    return Budget(uuid.uuid4(), "tenant", uuid.uuid4(), None, limit, "daily", None, "UTC", True, thresholds)


def test_crossed_thresholds() -> None:
    budget = _budget(1_000)
    assert crossed_thresholds(budget, 0) == []
    assert crossed_thresholds(budget, 499) == []
    assert crossed_thresholds(budget, 500) == [50]
    assert crossed_thresholds(budget, 1_000) == [50, 80, 100]
    assert crossed_thresholds(_budget(0), 1) == [50, 80, 100]
    assert crossed_thresholds(_budget(1_000, (150,)), 1_499) == []
