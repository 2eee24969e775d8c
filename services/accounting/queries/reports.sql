-- name: SummarizeUsage :one
-- AccountingService's summary, from the hourly rollup: totals over [start_at, end_at)
-- (whole UTC hours) for the rows matching every filter that is not NULL.
SELECT
    COALESCE(sum(requests), 0)::bigint AS requests,
    COALESCE(sum(error_requests), 0)::bigint AS error_requests,
    COALESCE(sum(prompt_tokens), 0)::bigint AS prompt_tokens,
    COALESCE(sum(completion_tokens), 0)::bigint AS completion_tokens,
    COALESCE(sum(cost_micro_usd), 0)::bigint AS cost_micro_usd
FROM accounting.usage_hourly
WHERE bucket >= @start_at AND bucket < @end_at
    AND (sqlc.narg(tenant_id)::uuid IS NULL OR tenant_id = sqlc.narg(tenant_id))
    AND (sqlc.narg(key_id)::uuid IS NULL OR key_id = sqlc.narg(key_id))
    AND (sqlc.narg(model)::text IS NULL OR model = sqlc.narg(model));

-- name: BreakDownUsage :many
-- AccountingService's breakdown, from the hourly rollup: totals over [start_at, end_at)
-- (whole UTC hours) per group, for the rows matching every filter that is not NULL.
-- dimension is 'tenant', 'key', 'model', 'provider' or 'day' (the calendar day, YYYY-MM-DD,
-- in time zone tz: exact for zones whose offset is a whole number of hours). Days come in
-- date order, other groups most expensive first.
SELECT
    (CASE @dimension::text
        WHEN 'tenant' THEN tenant_id::text
        WHEN 'key' THEN key_id::text
        WHEN 'model' THEN model
        WHEN 'provider' THEN provider
        WHEN 'day' THEN to_char(bucket AT TIME ZONE @tz::text, 'YYYY-MM-DD')
    END)::text AS group_key,
    sum(requests)::bigint AS requests,
    sum(error_requests)::bigint AS error_requests,
    sum(prompt_tokens)::bigint AS prompt_tokens,
    sum(completion_tokens)::bigint AS completion_tokens,
    sum(cost_micro_usd)::bigint AS cost_micro_usd
FROM accounting.usage_hourly
WHERE bucket >= @start_at AND bucket < @end_at
    AND (sqlc.narg(tenant_id)::uuid IS NULL OR tenant_id = sqlc.narg(tenant_id))
    AND (sqlc.narg(key_id)::uuid IS NULL OR key_id = sqlc.narg(key_id))
    AND (sqlc.narg(model)::text IS NULL OR model = sqlc.narg(model))
GROUP BY 1
ORDER BY (CASE WHEN @dimension::text = 'day' THEN 0 ELSE -sum(cost_micro_usd) END), 1;
