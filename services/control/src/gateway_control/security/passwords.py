"""Password hashing with argon2id at OWASP's recommended parameters.

OWASP's Password Storage Cheat Sheet: argon2id with m=19 MiB, t=2, p=1. Hashing costs tens of
milliseconds of CPU, so the async API runs it in a worker thread. Verifying a login for an
unknown user still runs one verification (against a dummy hash), so response time does not
reveal which emails have accounts.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

OWASP_TIME_COST = 2
OWASP_MEMORY_COST_KIB = 19 * 1024
OWASP_PARALLELISM = 1


class PasswordHashing:
    """argon2id hashing and verification; `needs_rehash` tells when parameters were raised."""

    def __init__(
        self,
        time_cost: int = OWASP_TIME_COST,
        memory_cost_kib: int = OWASP_MEMORY_COST_KIB,
        parallelism: int = OWASP_PARALLELISM,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        # A real hash of a random-looking string: verifying against it costs the same as a real check.
        self._dummy_hash = self._hasher.hash("dummy password for unknown users")

    def hash(self, password: str) -> str:
        """Hash a password into a self-describing `$argon2id$...` string."""
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when `password` matches `stored_hash`; a None hash burns the same time and fails."""
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, password) and stored_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the stored hash used weaker parameters than the current ones."""
        return self._hasher.check_needs_rehash(stored_hash)

    async def hash_async(self, password: str) -> str:
        """`hash` off the event loop."""
        return await asyncio.to_thread(self.hash, password)

    async def verify_async(self, stored_hash: str | None, password: str) -> bool:
        """`verify` off the event loop."""
        return await asyncio.to_thread(self.verify, stored_hash, password)
