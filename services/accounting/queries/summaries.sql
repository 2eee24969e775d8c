-- name: UsageSummary :one
-- Totals over [start_at, end_at) for one tenant and/or key, or everything when both are NULL.
-- Like every summary it reads the hourly rollup, so start_at and end_at must be whole hours;
-- for local days in a zone with a whole-hour offset, pass the local midnights.
SELECT
    COALESCE(sum(requests), 0)::bigint AS requests,
    COALESCE(sum(error_requests), 0)::bigint AS error_requests,
    COALESCE(sum(prompt_tokens), 0)::bigint AS prompt_tokens,
    COALESCE(sum(completion_tokens), 0)::bigint AS completion_tokens,
    COALESCE(sum(cached_tokens), 0)::bigint AS cached_tokens,
    COALESCE(sum(reasoning_tokens), 0)::bigint AS reasoning_tokens,
    COALESCE(sum(cost_micro_usd), 0)::bigint AS cost_micro_usd
FROM accounting.usage_hourly
WHERE bucket >= @start_at AND bucket < @end_at
    AND (sqlc.narg(tenant_id)::uuid IS NULL OR tenant_id = sqlc.narg(tenant_id))
    AND (sqlc.narg(key_id)::uuid IS NULL OR key_id = sqlc.narg(key_id));

-- name: UsageByModel :many
-- Totals over [start_at, end_at) (whole hours) per model, most expensive first.
SELECT
    model,
    sum(requests)::bigint AS requests,
    sum(error_requests)::bigint AS error_requests,
    sum(prompt_tokens)::bigint AS prompt_tokens,
    sum(completion_tokens)::bigint AS completion_tokens,
    sum(cached_tokens)::bigint AS cached_tokens,
    sum(reasoning_tokens)::bigint AS reasoning_tokens,
    sum(cost_micro_usd)::bigint AS cost_micro_usd
FROM accounting.usage_hourly
WHERE bucket >= @start_at AND bucket < @end_at
    AND (sqlc.narg(tenant_id)::uuid IS NULL OR tenant_id = sqlc.narg(tenant_id))
    AND (sqlc.narg(key_id)::uuid IS NULL OR key_id = sqlc.narg(key_id))
GROUP BY model
ORDER BY cost_micro_usd DESC, model;

-- name: UsageByKey :many
-- Totals over [start_at, end_at) (whole hours) per key, most expensive first.
SELECT
    key_id,
    sum(requests)::bigint AS requests,
    sum(error_requests)::bigint AS error_requests,
    sum(prompt_tokens)::bigint AS prompt_tokens,
    sum(completion_tokens)::bigint AS completion_tokens,
    sum(cached_tokens)::bigint AS cached_tokens,
    sum(reasoning_tokens)::bigint AS reasoning_tokens,
    sum(cost_micro_usd)::bigint AS cost_micro_usd
FROM accounting.usage_hourly
WHERE bucket >= @start_at AND bucket < @end_at
    AND (sqlc.narg(tenant_id)::uuid IS NULL OR tenant_id = sqlc.narg(tenant_id))
GROUP BY key_id
ORDER BY cost_micro_usd DESC, key_id;

-- name: UsageByTenant :many
-- Totals over [start_at, end_at) (whole hours) per tenant, most expensive first.
SELECT
    tenant_id,
    sum(requests)::bigint AS requests,
    sum(error_requests)::bigint AS error_requests,
    sum(prompt_tokens)::bigint AS prompt_tokens,
    sum(completion_tokens)::bigint AS completion_tokens,
    sum(cached_tokens)::bigint AS cached_tokens,
    sum(reasoning_tokens)::bigint AS reasoning_tokens,
    sum(cost_micro_usd)::bigint AS cost_micro_usd
FROM accounting.usage_hourly
WHERE bucket >= @start_at AND bucket < @end_at
GROUP BY tenant_id
ORDER BY cost_micro_usd DESC, tenant_id;

-- name: UsageByDay :many
-- Totals over [start_at, end_at) (whole hours) per calendar day in time zone tz, an IANA
-- name such as 'Europe/Paris'; exact for zones whose offset is a whole number of hours.
SELECT
    (bucket AT TIME ZONE @tz::text)::date AS day,
    sum(requests)::bigint AS requests,
    sum(error_requests)::bigint AS error_requests,
    sum(prompt_tokens)::bigint AS prompt_tokens,
    sum(completion_tokens)::bigint AS completion_tokens,
    sum(cached_tokens)::bigint AS cached_tokens,
    sum(reasoning_tokens)::bigint AS reasoning_tokens,
    sum(cost_micro_usd)::bigint AS cost_micro_usd
FROM accounting.usage_hourly
WHERE bucket >= @start_at AND bucket < @end_at
    AND (sqlc.narg(tenant_id)::uuid IS NULL OR tenant_id = sqlc.narg(tenant_id))
    AND (sqlc.narg(key_id)::uuid IS NULL OR key_id = sqlc.narg(key_id))
GROUP BY 1
ORDER BY 1;
