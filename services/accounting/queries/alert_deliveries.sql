-- name: InsertAlertDelivery :one
-- Record an alert to send to one channel, pending until delivery ends.
INSERT INTO accounting.alert_deliveries (
    budget_id, period_start, threshold, channel_id, channel_kind, scope, scope_id, period,
    period_end, limit_micro_usd, spent_micro_usd, tenant_id
)
VALUES (
    @budget_id, @period_start, @threshold, @channel_id, @channel_kind, @scope, @scope_id, @period,
    @period_end, @limit_micro_usd, @spent_micro_usd, sqlc.narg(tenant_id)
)
ON CONFLICT (budget_id, period_start, threshold, channel_id) DO NOTHING
RETURNING id;

-- name: FinishAlertDelivery :execrows
-- Close a delivery as 'sent' or 'failed' with the number of attempts and the last error.
UPDATE accounting.alert_deliveries
SET status = @status, attempts = attempts + @attempts, last_error = sqlc.narg(last_error), finished_at = now()
WHERE id = @id AND status = 'pending';

-- name: ListStalePendingAlertDeliveries :many
-- Deliveries still pending after `older_than` (their sender crashed), oldest first.
SELECT * FROM accounting.alert_deliveries
WHERE status = 'pending' AND sending_since < @older_than
ORDER BY sending_since, id
LIMIT sqlc.arg('limit');

-- name: TouchAlertDelivery :execrows
-- Take over a stale pending delivery: only one replica wins (the others see 0 rows).
UPDATE accounting.alert_deliveries SET sending_since = now()
WHERE id = @id AND status = 'pending' AND sending_since < @older_than;

-- name: ListAlertHistory :many
-- The alert history newest first, optionally for one tenant and/or one budget. Keyset paging:
-- pass the id of the last row seen as before_id (NULL for the first page).
SELECT * FROM accounting.alert_deliveries
WHERE (sqlc.narg(tenant_id)::uuid IS NULL OR tenant_id = sqlc.narg(tenant_id))
    AND (sqlc.narg(budget_id)::uuid IS NULL OR budget_id = sqlc.narg(budget_id))
    AND (sqlc.narg(before_id)::bigint IS NULL OR id < sqlc.narg(before_id))
ORDER BY id DESC
LIMIT sqlc.arg('limit');
