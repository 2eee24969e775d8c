"""Provider credentials at rest: a JSON object sealed with the envelope cipher, aad = provider id."""

from __future__ import annotations

import uuid
from typing import Protocol

import orjson

from gateway_control.security.envelope import EnvelopeCipher, EnvelopeError, SealedRecord


class StoredCredentials(Protocol):
    """The four credential columns of a provider row."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def credentials_ciphertext(self) -> bytes | None: ...
    @property
    def credentials_nonce(self) -> bytes | None: ...
    @property
    def credentials_wrapped_key(self) -> bytes | None: ...
    @property
    def credentials_key_id(self) -> str | None: ...


def seal_credentials(
    envelope: EnvelopeCipher, provider_id: uuid.UUID, credentials: dict[str, str]
) -> SealedRecord:
    """Encrypt a credential mapping for storage on the provider row `provider_id`."""
    return envelope.seal(orjson.dumps(credentials), aad=_aad(provider_id))


def open_credentials(envelope: EnvelopeCipher, row: StoredCredentials) -> dict[str, str] | None:
    """The credential mapping stored on a provider row, or None when it has none."""
    if (
        row.credentials_ciphertext is None
        or row.credentials_nonce is None
        or row.credentials_wrapped_key is None
        or row.credentials_key_id is None
    ):
        return None
    plain = envelope.open(
        SealedRecord(
            ciphertext=row.credentials_ciphertext,
            nonce=row.credentials_nonce,
            wrapped_key=row.credentials_wrapped_key,
            key_id=row.credentials_key_id,
        ),
        aad=_aad(row.id),
    )
    value = orjson.loads(plain)
    if not isinstance(value, dict):
        raise EnvelopeError("stored credentials are not a JSON object")
    return {str(k): str(v) for k, v in value.items()}


def _aad(provider_id: uuid.UUID) -> bytes:
    return f"provider:{provider_id}".encode()
