"""The stored rate-limit defaults as the snapshot carries them."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime

from gateway_common.sealing import DataPlaneKeys
from gateway_control.publishing.rate_limit_defaults import to_proto
from gateway_control.publishing.snapshot import CatalogRows, build_snapshot
from gateway_control.security.envelope import EnvelopeCipher


def test_to_proto_keeps_positive_whole_numbers_only() -> None:
    stored = {"key": {"rpm": 60, "tpm": -5, "max_parallel": "8", "extra": 3}, "tenant": {}}
    limits = to_proto(stored, "key")
    assert (limits.rpm, limits.tpm, limits.max_parallel) == (60, 0, 0)
    assert to_proto(stored, "tenant").rpm == 0
    assert to_proto({}, "tenant").max_parallel == 0


def test_the_snapshot_carries_both_scopes() -> None:
    rows = CatalogRows(
        revision=3,
        models=[],
        deployments=[],
        routes=[],
        providers=[],
        rate_limit_defaults={
            "key": {"rpm": 10, "tpm": 0, "max_parallel": 2},
            "tenant": {"rpm": 0, "tpm": 5000, "max_parallel": 0},
        },
    )
    snapshot = build_snapshot(
        rows,
        envelope=EnvelopeCipher("mk1", {"mk1": os.urandom(32)}),
        dataplane=DataPlaneKeys.from_base64("dp1", base64.b64encode(os.urandom(32)).decode()),
        allow_unpriced_models=False,
        now=datetime(2026, 11, 26, tzinfo=UTC),
    )
    assert (snapshot.default_key_limits.rpm, snapshot.default_key_limits.max_parallel) == (10, 2)
    assert (snapshot.default_tenant_limits.rpm, snapshot.default_tenant_limits.tpm) == (0, 5000)
