"""Who probes a deployment: the seam for issue 8's exactly-one-prober leases.

The scheduler asks `owns(deployment_id)` right before every probe and calls `release` when it
stops probing a deployment (removed from the snapshot, or shutdown). Today `OwnAll` says yes
to everything: each replica probes every deployment, and the store's compare-and-set keeps
their results from overwriting each other. Issue 8 replaces it with a lease per deployment in
NATS KV (create the lease key with a TTL of about two intervals; renew it with a
revision-checked update while probing; `release` deletes it), so `owns` answers yes on
exactly one replica at a time. Nothing else in the scheduler has to change.
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
