"""Virtual API keys: `sk-gw-` + 32 base62 characters (≈190 random bits) + a 6-character checksum.

The checksum lets secret scanners (and the proxy, before any I/O) tell a real key from a typo.
Keys are stored and looked up only as HMAC-SHA256 digests under a server-side pepper.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import zlib

KEY_PREFIX = "sk-gw-"
_ALPHABET = string.digits + string.ascii_letters
_BODY_LEN = 32
_CHECKSUM_LEN = 6
KEY_LENGTH = len(KEY_PREFIX) + _BODY_LEN + _CHECKSUM_LEN


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECKSUM_LEN)


def generate_key() -> str:
    """A new random virtual key with its checksum."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_BODY_LEN))
    return f"{KEY_PREFIX}{body}{_checksum(body)}"


def is_well_formed(key: str) -> bool:
    """True when the key has our prefix, length, alphabet and a matching checksum."""
    if len(key) != KEY_LENGTH or not key.startswith(KEY_PREFIX):
        return False
    body = key[len(KEY_PREFIX) : len(KEY_PREFIX) + _BODY_LEN]
    check = key[len(KEY_PREFIX) + _BODY_LEN :]
    if not (body.isascii() and body.isalnum()):  # _ALPHABET exactly, tested in C
        return False
    return hmac.compare_digest(check, _checksum(body))


def key_digest(pepper: bytes, key: str) -> str:
    """Hex HMAC-SHA256 of the key under the pepper: the only form in which a key is stored."""
    return hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()


def display_parts(key: str) -> tuple[str, str]:
    """(prefix, last4) — how a key is shown after creation."""
    return key[: len(KEY_PREFIX) + 4], key[-4:]
