"""At-rest envelope encryption: round trip, per-record data keys, tamper and swap detection."""

from __future__ import annotations

import dataclasses
import os
import uuid

import pytest
from gateway_control.security.credentials import open_credentials, seal_credentials
from gateway_control.security.envelope import EnvelopeCipher, EnvelopeError, SealedRecord

AAD = b"provider:1234"


@pytest.fixture
def cipher() -> EnvelopeCipher:
    return EnvelopeCipher("mk1", {"mk1": os.urandom(32)})


def _flip(data: bytes, index: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def test_round_trip(cipher: EnvelopeCipher) -> None:
    sealed = cipher.seal(b"sk-canary-secret", AAD)
    assert sealed.key_id == "mk1"
    assert b"sk-canary-secret" not in sealed.ciphertext + sealed.wrapped_key + sealed.nonce
    assert cipher.open(sealed, AAD) == b"sk-canary-secret"


def test_each_record_gets_its_own_data_key(cipher: EnvelopeCipher) -> None:
    first, second = cipher.seal(b"same", AAD), cipher.seal(b"same", AAD)
    assert first.wrapped_key != second.wrapped_key
    assert first.ciphertext != second.ciphertext


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "wrapped_key"])
def test_tampering_is_detected(cipher: EnvelopeCipher, field: str) -> None:
    sealed = cipher.seal(b"secret", AAD)
    tampered = dataclasses.replace(sealed, **{field: _flip(getattr(sealed, field))})
    with pytest.raises(EnvelopeError):
        cipher.open(tampered, AAD)


def test_tampering_the_wrapped_key_tail_is_detected(cipher: EnvelopeCipher) -> None:
    sealed = cipher.seal(b"secret", AAD)
    tampered = dataclasses.replace(sealed, wrapped_key=_flip(sealed.wrapped_key, len(sealed.wrapped_key) - 1))
    with pytest.raises(EnvelopeError):
        cipher.open(tampered, AAD)


def test_record_moved_to_another_row_fails(cipher: EnvelopeCipher) -> None:
    sealed = cipher.seal(b"secret", AAD)
    with pytest.raises(EnvelopeError):
        cipher.open(sealed, b"provider:other")


def test_wrapped_key_swapped_between_records_fails(cipher: EnvelopeCipher) -> None:
    first, second = cipher.seal(b"one", AAD), cipher.seal(b"two", AAD)
    with pytest.raises(EnvelopeError):
        cipher.open(dataclasses.replace(first, wrapped_key=second.wrapped_key), AAD)


def test_unknown_or_wrong_master_key_fails(cipher: EnvelopeCipher) -> None:
    sealed = cipher.seal(b"secret", AAD)
    with pytest.raises(EnvelopeError, match="unknown master key"):
        cipher.open(dataclasses.replace(sealed, key_id="mk9"), AAD)
    other = EnvelopeCipher("mk1", {"mk1": os.urandom(32)})
    with pytest.raises(EnvelopeError):
        other.open(sealed, AAD)


def test_old_master_key_still_opens_after_rotation() -> None:
    old_key, new_key = os.urandom(32), os.urandom(32)
    sealed = EnvelopeCipher("mk1", {"mk1": old_key}).seal(b"secret", AAD)
    rotated = EnvelopeCipher("mk2", {"mk1": old_key, "mk2": new_key})
    assert rotated.open(sealed, AAD) == b"secret"
    assert rotated.seal(b"x", AAD).key_id == "mk2"


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(EnvelopeError):
        EnvelopeCipher("mk2", {"mk1": os.urandom(32)})
    with pytest.raises(EnvelopeError):
        EnvelopeCipher("mk1", {"mk1": os.urandom(16)})


@dataclasses.dataclass(frozen=True)
class _Row:
    id: uuid.UUID
    credentials_ciphertext: bytes | None
    credentials_nonce: bytes | None
    credentials_wrapped_key: bytes | None
    credentials_key_id: str | None


def _row(provider_id: uuid.UUID, sealed: SealedRecord | None) -> _Row:
    if sealed is None:
        return _Row(provider_id, None, None, None, None)
    return _Row(provider_id, sealed.ciphertext, sealed.nonce, sealed.wrapped_key, sealed.key_id)


def test_credentials_are_bound_to_their_provider(cipher: EnvelopeCipher) -> None:
    provider_id = uuid.uuid4()
    sealed = seal_credentials(cipher, provider_id, {"api_key": "sk-canary"})
    assert open_credentials(cipher, _row(provider_id, sealed)) == {"api_key": "sk-canary"}
    with pytest.raises(EnvelopeError):
        open_credentials(cipher, _row(uuid.uuid4(), sealed))
    assert open_credentials(cipher, _row(provider_id, None)) is None
