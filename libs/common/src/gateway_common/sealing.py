"""Sealing provider credentials for the data plane with AES-256-GCM.

Control seals each provider's credentials under the data-plane key before they enter the
ConfigSnapshot; the proxy and the health service open them in memory. The associated data binds a
ciphertext to its provider id, so one provider's sealed secret cannot be replayed as another's.
"""

from __future__ import annotations

import base64
import os

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from gateway_proto.v1.config_pb2 import EncryptedSecret


class SealingError(ValueError):
    """A secret could not be sealed or opened (wrong key, key id or tampered data)."""


class DataPlaneKeys:
    """The data-plane keys by id: one current key seals; any known key opens."""

    def __init__(self, current_id: str, keys: dict[str, bytes]) -> None:
        if current_id not in keys:
            raise SealingError(f"data-plane key {current_id!r} is not among the configured keys")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise SealingError(f"data-plane key {key_id!r} must be 32 bytes, got {len(key)}")
        self._current_id = current_id
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}

    @classmethod
    def from_base64(cls, key_id: str, key_b64: str) -> DataPlaneKeys:
        """One key given as base64 text (the DATAPLANE_KEY setting)."""
        try:
            raw = base64.b64decode(key_b64, validate=True)
        except ValueError as exc:
            raise SealingError("DATAPLANE_KEY must be base64 of 32 bytes") from exc
        return cls(key_id, {key_id: raw})

    def seal(self, secret: dict[str, str], aad: str) -> EncryptedSecret:
        """Encrypt a credential mapping under the current key."""
        nonce = os.urandom(12)
        ciphertext = self._keys[self._current_id].encrypt(nonce, orjson.dumps(secret), aad.encode())
        return EncryptedSecret(key_id=self._current_id, nonce=nonce, ciphertext=ciphertext)

    def open(self, sealed: EncryptedSecret, aad: str) -> dict[str, str]:
        """Decrypt a sealed credential mapping; raises SealingError on any mismatch."""
        if not sealed.ciphertext:
            return {}
        aead = self._keys.get(sealed.key_id)
        if aead is None:
            raise SealingError(f"unknown data-plane key id {sealed.key_id!r}")
        try:
            plain = aead.decrypt(sealed.nonce, sealed.ciphertext, aad.encode())
        except Exception as exc:  # cryptography raises InvalidTag; treat any failure alike
            raise SealingError("sealed secret failed authentication") from exc
        value = orjson.loads(plain)
        if not isinstance(value, dict):
            raise SealingError("sealed secret is not a mapping")
        return {str(k): str(v) for k, v in value.items()}
