"""Who probes a deployment: the seam between the scheduler and the exactly-one-prober leases.

The scheduler asks `owns(deployment_id)` right before every probe and calls `release` when it
stops probing a deployment (removed from the snapshot, or shutdown). The service's default is
`lease.KvLeaseOwnership`: a lease per deployment in NATS KV, so `owns` answers yes on exactly
one replica at a time. `OwnAll` says yes to everything (every replica probes every deployment;
the store's compare-and-set keeps their results apart) — for tests and single-replica setups
that pass it to `create_app(settings, ownership=OwnAll())`.
"""

from __future__ import annotations

from typing import Protocol


class Ownership(Protocol):
    """Decides whether this replica probes a deployment right now."""

    async def owns(self, deployment_id: str) -> bool:
        """True when this replica should probe `deployment_id` now (may acquire or renew a lease)."""
        ...

    async def release(self, deployment_id: str) -> None:
        """Give up `deployment_id` so another replica can take it over without waiting."""
        ...


class OwnAll:
    """Every replica owns every deployment (single-replica deployments; the Foundation default)."""

    async def owns(self, deployment_id: str) -> bool:
        """Always True."""
        return True

    async def release(self, deployment_id: str) -> None:
        """Nothing to release."""
