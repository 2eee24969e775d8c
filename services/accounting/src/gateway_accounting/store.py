"""Writing usage: one transaction inserts a batch and rolls up exactly the rows it inserted.

`store_usage_batch` is one statement: its insert skips request ids already stored (`ON CONFLICT DO
NOTHING`), and only the rows it did insert are summed into the hourly rollup, set-based, in the
same transaction; it returns the ids it inserted. A batch
redelivered after a crash, or raced by another replica, therefore adds nothing twice: Postgres
makes the second inserter of a request id wait for the first one's commit, then skip it.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway_accounting.database import Pool
from gateway_accounting.db import usage
from gateway_accounting.events import UsageRow


def unique_rows(rows: Sequence[UsageRow]) -> list[UsageRow]:
    """The first row of each request id, sorted by request id.

    A stable order means two replicas lock the same request ids in the same order, which keeps
    concurrent batches from deadlocking on each other.
    """
    first: dict[str, UsageRow] = {}
    for row in rows:
        first.setdefault(row.request_id, row)
    return [first[request_id] for request_id in sorted(first)]


async def write_usage_batch(pool: Pool, rows: Sequence[UsageRow]) -> int:
    """Store `rows` and roll up the new ones in one transaction; return how many were new."""
    return len(await write_new_usage(pool, rows))


async def write_new_usage(pool: Pool, rows: Sequence[UsageRow]) -> list[UsageRow]:
    """Store `rows` and roll up the new ones in one transaction; return the rows that were new.

    Only these may be settled against budgets: a duplicate was counted when it was first stored.
    """
    batch = unique_rows(rows)
    if not batch:
        return []
    # One statement is one transaction: no BEGIN/COMMIT round trips around it.
    inserted = await usage.store_usage_batch(
        pool,
        request_ids=[r.request_id for r in batch],
        tenant_ids=[r.tenant_id for r in batch],
        key_ids=[r.key_id for r in batch],
        user_ids=[r.user_id for r in batch],
        models=[r.model for r in batch],
        deployment_ids=[r.deployment_id for r in batch],
        providers=[r.provider for r in batch],
        endpoints=[r.endpoint for r in batch],
        status_codes=[r.status_code for r in batch],
        error_codes=[r.error_code for r in batch],
        streams=[r.stream for r in batch],
        prompt_tokens=[r.prompt_tokens for r in batch],
        completion_tokens=[r.completion_tokens for r in batch],
        cached_tokens=[r.cached_tokens for r in batch],
        reasoning_tokens=[r.reasoning_tokens for r in batch],
        estimated=[r.estimated for r in batch],
        cost_micro_usd=[r.cost_micro_usd for r in batch],
        pricing_revisions=[r.pricing_revision for r in batch],
        started_at=[r.started_at for r in batch],
        finished_at=[r.finished_at for r in batch],
        latency_ms=[r.latency_ms for r in batch],
        client_disconnected=[r.client_disconnected for r in batch],
    )
    new = set(inserted)
    return [row for row in batch if row.request_id in new]
