-- name: InsertAlertDelivery :one
-- Record an alert to send to one channel, pending until delivery ends.
INSERT INTO accounting.alert_deliveries (
    budget_id, period_start, threshold, channel_id, channel_kind, scope, scope_id, period,
    period_end, limit_micro_usd, spent_micro_usd
)
VALUES (
    @budget_id, @period_start, @threshold, @channel_id, @channel_kind, @scope, @scope_id, @period,
    @period_end, @limit_micro_usd, @spent_micro_usd
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

-- name: ListAlertDeliveries :many
-- Alert history of one budget, newest first.
SELECT * FROM accounting.alert_deliveries
WHERE budget_id = @budget_id
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg('limit');
