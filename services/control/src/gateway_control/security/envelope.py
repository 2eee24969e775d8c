"""At-rest envelope encryption of provider credentials with AES-256-GCM.

Each record gets its own random 256-bit data key. The data key encrypts the credentials; the
master key (MASTER_KEY, named by MASTER_KEY_ID) wraps the data key. Both encryptions bind the
record's associated data (the provider id), so a ciphertext copied onto another row fails to
open. Re-wrapping under a new master key (issue 6) only has to rewrap the small data keys.

Stored form (four columns): ciphertext, nonce, wrapped_key (= wrap nonce || wrapped data key)
and key_id.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12
_KEY_BYTES = 32


class EnvelopeError(ValueError):
    """A record could not be opened: unknown master key id, wrong associated data, or tampering."""


@dataclass(frozen=True, slots=True)
class SealedRecord:
    """One envelope-encrypted value as stored in Postgres."""

    ciphertext: bytes
    nonce: bytes
    wrapped_key: bytes
    key_id: str


class EnvelopeCipher:
    """Seals with the current master key; opens with any known master key."""

    def __init__(self, current_key_id: str, master_keys: dict[str, bytes]) -> None:
        if current_key_id not in master_keys:
            raise EnvelopeError(f"master key {current_key_id!r} is not configured")
        for key_id, key in master_keys.items():
            if len(key) != _KEY_BYTES:
                raise EnvelopeError(f"master key {key_id!r} must be {_KEY_BYTES} bytes")
        self._current_key_id = current_key_id
        self._master = {key_id: AESGCM(key) for key_id, key in master_keys.items()}

    @property
    def current_key_id(self) -> str:
        """The id of the master key new records are wrapped with."""
        return self._current_key_id

    def seal(self, plaintext: bytes, aad: bytes) -> SealedRecord:
        """Encrypt `plaintext` under a fresh data key and wrap that key with the current master key."""
        data_key = AESGCM.generate_key(bit_length=_KEY_BYTES * 8)
        nonce = os.urandom(_NONCE_BYTES)
        ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, aad)
        wrap_nonce = os.urandom(_NONCE_BYTES)
        wrapped = self._master[self._current_key_id].encrypt(
            wrap_nonce, data_key, self._wrap_aad(self._current_key_id, aad)
        )
        return SealedRecord(
            ciphertext=ciphertext,
            nonce=nonce,
            wrapped_key=wrap_nonce + wrapped,
            key_id=self._current_key_id,
        )

    def open(self, record: SealedRecord, aad: bytes) -> bytes:
        """Unwrap the data key and decrypt; raise EnvelopeError on any mismatch."""
        master = self._master.get(record.key_id)
        if master is None:
            raise EnvelopeError(f"unknown master key id {record.key_id!r}")
        wrap_nonce, wrapped = record.wrapped_key[:_NONCE_BYTES], record.wrapped_key[_NONCE_BYTES:]
        try:
            data_key = master.decrypt(wrap_nonce, wrapped, self._wrap_aad(record.key_id, aad))
            return AESGCM(data_key).decrypt(record.nonce, record.ciphertext, aad)
        except (InvalidTag, ValueError) as exc:
            raise EnvelopeError("envelope failed authentication") from exc

    @staticmethod
    def _wrap_aad(key_id: str, aad: bytes) -> bytes:
        # The key id is bound too, so a wrapped key cannot be relabelled as another master key's.
        return b"wrap:" + key_id.encode() + b":" + aad
