"""Building KeyRecords: what the proxy needs to authorise a virtual key, from database rows.

Pure functions; writing them to Redis is `key_cache.KeyRecordPublisher`'s job.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Protocol

from gateway_proto.v1.config_pb2 import RateLimits
from gateway_proto.v1.keys_pb2 import KeyRecord, TenantStatus
from google.protobuf.timestamp_pb2 import Timestamp

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TENANT_STATUS = {
    "active": TenantStatus.TENANT_STATUS_ACTIVE,
    "suspended": TenantStatus.TENANT_STATUS_SUSPENDED,
}


class KeyRecordSource(Protocol):
    """A key row joined with its tenant (the GetKeyRecordByDigest / ListKeyRecords rows)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def tenant_id(self) -> uuid.UUID: ...
    @property
    def user_id(self) -> uuid.UUID | None: ...
    @property
    def name(self) -> str: ...
    @property
    def digest(self) -> str: ...
    @property
    def prefix(self) -> str: ...
    @property
    def last4(self) -> str: ...
    @property
    def allowed_models(self) -> list[str]: ...
    @property
    def allowed_endpoints(self) -> list[str]: ...
    @property
    def rpm_limit(self) -> int | None: ...
    @property
    def tpm_limit(self) -> int | None: ...
    @property
    def max_parallel(self) -> int | None: ...
    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def revoked_at(self) -> datetime | None: ...
    @property
    def disabled(self) -> bool: ...
    @property
    def tenant_status(self) -> str: ...
    @property
    def tenant_rpm_limit(self) -> int | None: ...
    @property
    def tenant_tpm_limit(self) -> int | None: ...
    @property
    def tenant_max_parallel(self) -> int | None: ...
    @property
    def tenant_models(self) -> list[str]: ...
    @property
    def read_at(self) -> datetime | None: ...


def build_key_record(row: KeyRecordSource) -> KeyRecord:
    """The KeyRecord for a key row; `updated_unix_ms` is when the database state was read."""
    record = KeyRecord(
        key_id=str(row.id),
        digest=row.digest,
        tenant_id=str(row.tenant_id),
        user_id="" if row.user_id is None else str(row.user_id),
        name=row.name,
        prefix=row.prefix,
        last4=row.last4,
        allowed_models=row.allowed_models,
        allowed_endpoints=row.allowed_endpoints,
        revoked=row.revoked_at is not None,
        disabled=row.disabled,
        tenant_status=_TENANT_STATUS.get(row.tenant_status, TenantStatus.TENANT_STATUS_UNSPECIFIED),
        key_limits=RateLimits(
            rpm=row.rpm_limit or 0, tpm=row.tpm_limit or 0, max_parallel=row.max_parallel or 0
        ),
        tenant_limits=RateLimits(
            rpm=row.tenant_rpm_limit or 0,
            tpm=row.tenant_tpm_limit or 0,
            max_parallel=row.tenant_max_parallel or 0,
        ),
        tenant_models=row.tenant_models,
        updated_unix_ms=record_version_us(row) // 1000,
    )
    if row.expires_at is not None:
        expires = Timestamp()
        expires.FromDatetime(row.expires_at)
        record.expires_at.CopyFrom(expires)
    return record


def record_version_us(row: KeyRecordSource) -> int:
    """The record's version: microseconds since the epoch at which the row was read."""
    if row.read_at is None:
        raise ValueError("key record row has no read_at")
    return (row.read_at - _EPOCH) // timedelta(microseconds=1)
