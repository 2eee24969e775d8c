import base64
import os

import pytest
from gateway_common.sealing import DataPlaneKeys, SealingError


def _keys() -> DataPlaneKeys:
    return DataPlaneKeys.from_base64("dp1", base64.b64encode(os.urandom(32)).decode())


def test_round_trip_and_ciphertext_hides_the_secret() -> None:
    keys = _keys()
    sealed = keys.seal({"api_key": "canary-secret-123"}, aad="provider-1")
    assert b"canary-secret-123" not in sealed.SerializeToString()
    assert keys.open(sealed, aad="provider-1") == {"api_key": "canary-secret-123"}


def test_other_provider_id_or_tampering_fails() -> None:
    keys = _keys()
    sealed = keys.seal({"api_key": "x"}, aad="provider-1")
    with pytest.raises(SealingError):
        keys.open(sealed, aad="provider-2")
    sealed.ciphertext = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]
    with pytest.raises(SealingError):
        keys.open(sealed, aad="provider-1")


def test_wrong_key_fails_and_bad_key_is_refused() -> None:
    sealed = _keys().seal({"api_key": "x"}, aad="p")
    with pytest.raises(SealingError):
        _keys().open(sealed, aad="p")
    with pytest.raises(SealingError):
        DataPlaneKeys.from_base64("dp1", base64.b64encode(b"short").decode())
