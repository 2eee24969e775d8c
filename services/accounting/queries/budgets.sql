-- name: SumTenantSpend :one
-- Exact spend of a tenant over [start, end) by request start time, from the raw rows.
SELECT COALESCE(sum(cost_micro_usd), 0)::bigint AS spent
FROM accounting.usage
WHERE tenant_id = @tenant_id AND started_at >= @period_start AND started_at < @period_end;

-- name: SumKeySpend :one
-- Exact spend of a key over [start, end) by request start time, from the raw rows.
SELECT COALESCE(sum(cost_micro_usd), 0)::bigint AS spent
FROM accounting.usage
WHERE key_id = @key_id AND started_at >= @period_start AND started_at < @period_end;

-- name: SumTenantSpendHourly :one
-- Spend of a tenant over whole UTC hours [start, end) from the hourly rollup (exact when both
-- bounds are on the hour).
SELECT COALESCE(sum(cost_micro_usd), 0)::bigint AS spent
FROM accounting.usage_hourly
WHERE tenant_id = @tenant_id AND bucket >= @period_start AND bucket < @period_end;

-- name: SumKeySpendHourly :one
-- Spend of a key over whole UTC hours [start, end) from the hourly rollup (exact when both
-- bounds are on the hour).
SELECT COALESCE(sum(cost_micro_usd), 0)::bigint AS spent
FROM accounting.usage_hourly
WHERE key_id = @key_id AND bucket >= @period_start AND bucket < @period_end;
