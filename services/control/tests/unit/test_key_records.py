"""KeyRecords built from key rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from gateway_control.db.api_keys import GetKeyRecordByDigestRow
from gateway_control.publishing.key_records import build_key_record, record_version_us
from gateway_proto.v1.keys_pb2 import TenantStatus

READ_AT = datetime(2026, 11, 26, 12, 0, 0, 123456, tzinfo=UTC)


def _row(**overrides: object) -> GetKeyRecordByDigestRow:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "tenant_id": uuid.uuid4(),
        "user_id": None,
        "name": "ci key",
        "digest": "ab" * 32,
        "prefix": "sk-gw-AbCd",
        "last4": "wxyz",
        "allowed_models": ["demo"],
        "allowed_endpoints": [],
        "rpm_limit": 60,
        "tpm_limit": None,
        "max_parallel": None,
        "expires_at": None,
        "revoked_at": None,
        "disabled": False,
        "tenant_status": "active",
        "tenant_rpm_limit": None,
        "tenant_tpm_limit": 100_000,
        "tenant_max_parallel": 4,
        "tenant_models": [],
        "read_at": READ_AT,
    }
    fields.update(overrides)
    return GetKeyRecordByDigestRow(**fields)  # type: ignore[arg-type]


def test_active_key_record() -> None:
    row = _row()
    record = build_key_record(row)
    assert record.key_id == str(row.id)
    assert record.tenant_id == str(row.tenant_id)
    assert record.digest == row.digest
    assert (record.prefix, record.last4, record.name) == ("sk-gw-AbCd", "wxyz", "ci key")
    assert list(record.allowed_models) == ["demo"]
    assert not record.revoked
    assert not record.disabled
    assert record.tenant_status == TenantStatus.TENANT_STATUS_ACTIVE
    assert (record.key_limits.rpm, record.key_limits.tpm) == (60, 0)
    assert (record.tenant_limits.tpm, record.tenant_limits.max_parallel) == (100_000, 4)
    assert not record.HasField("expires_at")
    assert record.user_id == ""
    assert record.updated_unix_ms == int(READ_AT.timestamp() * 1000)


def test_revoked_suspended_and_expiring_key_record() -> None:
    expires = READ_AT + timedelta(days=30)
    record = build_key_record(_row(revoked_at=READ_AT, tenant_status="suspended", expires_at=expires))
    assert record.revoked
    assert record.tenant_status == TenantStatus.TENANT_STATUS_SUSPENDED
    assert record.expires_at.ToDatetime(tzinfo=UTC) == expires


def test_version_is_exact_microseconds_and_orders_reads() -> None:
    earlier = _row(read_at=READ_AT)
    later = _row(read_at=READ_AT + timedelta(microseconds=1))
    assert record_version_us(later) - record_version_us(earlier) == 1
    assert record_version_us(earlier) % 1_000_000 == 123456
