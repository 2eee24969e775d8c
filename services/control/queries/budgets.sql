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
