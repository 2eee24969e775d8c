"""argon2id password hashing at OWASP parameters."""

from __future__ import annotations

from argon2 import PasswordHasher, Type, extract_parameters
from gateway_control.security.passwords import (
    OWASP_MEMORY_COST_KIB,
    OWASP_PARALLELISM,
    OWASP_TIME_COST,
    PasswordHashing,
)


def test_hash_is_argon2id_with_owasp_parameters() -> None:
    stored = PasswordHashing().hash("correct horse battery staple")
    params = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert params.type is Type.ID
    assert (params.time_cost, params.memory_cost, params.parallelism) == (
        OWASP_TIME_COST,
        OWASP_MEMORY_COST_KIB,
        OWASP_PARALLELISM,
    )
    assert (OWASP_TIME_COST, OWASP_MEMORY_COST_KIB, OWASP_PARALLELISM) == (2, 19456, 1)


def test_verify_accepts_the_password_and_rejects_others() -> None:
    hashing = PasswordHashing()
    stored = hashing.hash("s3cret-password")
    assert hashing.verify(stored, "s3cret-password")
    assert not hashing.verify(stored, "s3cret-passwore")
    assert not hashing.verify(stored, "")


def test_same_password_hashes_differently() -> None:
    hashing = PasswordHashing()
    assert hashing.hash("same") != hashing.hash("same")


def test_missing_or_garbage_hash_never_verifies() -> None:
    hashing = PasswordHashing()
    assert not hashing.verify(None, "dummy password for unknown users")
    assert not hashing.verify("not-a-hash", "anything")


def test_weaker_hash_needs_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID).hash("pw")
    hashing = PasswordHashing()
    assert hashing.verify(weak, "pw")
    assert hashing.needs_rehash(weak)
    assert not hashing.needs_rehash(hashing.hash("pw"))


async def test_async_variants_agree() -> None:
    hashing = PasswordHashing()
    stored = await hashing.hash_async("async-pw")
    assert await hashing.verify_async(stored, "async-pw")
    assert not await hashing.verify_async(stored, "other")
