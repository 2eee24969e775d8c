-- name: CreateBudget :one
-- Create a spending limit for a tenant or a key (rolling_days only for period 'rolling').
INSERT INTO control.budgets (
    scope, scope_id, limit_micro_usd, period, rolling_days, timezone, hard, thresholds
)
VALUES (
    @scope, @scope_id, @limit_micro_usd, @period, sqlc.narg(rolling_days), @timezone, @hard, @thresholds
)
RETURNING *;

-- name: ListBudgetsByScope :many
-- The budgets of one tenant or key.
SELECT * FROM control.budgets WHERE scope = @scope AND scope_id = @scope_id ORDER BY period, id;

-- name: ListBudgets :many
-- Every budget (what the config snapshot carries).
SELECT * FROM control.budgets ORDER BY scope, scope_id, period, id;

-- name: GetBudget :one
-- One budget, with the tenant it belongs to (the key's tenant for a key budget).
SELECT b.*, (CASE WHEN b.scope = 'tenant' THEN b.scope_id ELSE k.tenant_id END)::uuid AS tenant_id
FROM control.budgets AS b
LEFT JOIN control.api_keys AS k ON b.scope = 'key' AND k.id = b.scope_id
WHERE b.id = @id;

-- name: ListBudgetsByTenant :many
-- The budgets of a tenant and of its keys.
SELECT b.* FROM control.budgets AS b
LEFT JOIN control.api_keys AS k ON b.scope = 'key' AND k.id = b.scope_id
WHERE (b.scope = 'tenant' AND b.scope_id = @tenant_id) OR (b.scope = 'key' AND k.tenant_id = @tenant_id)
ORDER BY b.scope DESC, b.scope_id, b.period, b.id;

-- name: UpdateBudget :one
-- Replace a budget's limit, period, time zone, hard flag and thresholds.
UPDATE control.budgets
SET limit_micro_usd = @limit_micro_usd, period = @period, rolling_days = sqlc.narg(rolling_days),
    timezone = @timezone, hard = @hard, thresholds = @thresholds
WHERE id = @id
RETURNING *;

-- name: DeleteBudget :one
-- Delete a budget; returns the deleted row (none when it did not exist).
DELETE FROM control.budgets WHERE id = @id RETURNING *;
