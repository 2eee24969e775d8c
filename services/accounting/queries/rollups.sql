-- name: UpsertUsageHourly :execrows
-- Add increments to hourly rollup rows (one array element per increment; buckets must be
-- whole UTC hours). Increments for the same bucket and dimensions are summed first, so a
-- batch may repeat them. Returns the number of rollup rows touched.
INSERT INTO accounting.usage_hourly AS h (
    bucket, tenant_id, key_id, model, provider, requests, error_requests, prompt_tokens,
    completion_tokens, cached_tokens, reasoning_tokens, cost_micro_usd
)
SELECT
    i.bucket, i.tenant_id, i.key_id, i.model, i.provider, sum(i.requests), sum(i.error_requests),
    sum(i.prompt_tokens), sum(i.completion_tokens), sum(i.cached_tokens), sum(i.reasoning_tokens),
    sum(i.cost_micro_usd)
FROM (
    SELECT
        unnest(@buckets::timestamptz[]) AS bucket, unnest(@tenant_ids::uuid[]) AS tenant_id,
        unnest(@key_ids::uuid[]) AS key_id, unnest(@models::text[]) AS model,
        unnest(@providers::text[]) AS provider, unnest(@requests::bigint[]) AS requests,
        unnest(@error_requests::bigint[]) AS error_requests,
        unnest(@prompt_tokens::bigint[]) AS prompt_tokens,
        unnest(@completion_tokens::bigint[]) AS completion_tokens,
        unnest(@cached_tokens::bigint[]) AS cached_tokens,
        unnest(@reasoning_tokens::bigint[]) AS reasoning_tokens,
        unnest(@cost_micro_usd::bigint[]) AS cost_micro_usd
) AS i
GROUP BY i.bucket, i.tenant_id, i.key_id, i.model, i.provider
ON CONFLICT (tenant_id, bucket, key_id, model, provider) DO UPDATE SET
    requests = h.requests + excluded.requests,
    error_requests = h.error_requests + excluded.error_requests,
    prompt_tokens = h.prompt_tokens + excluded.prompt_tokens,
    completion_tokens = h.completion_tokens + excluded.completion_tokens,
    cached_tokens = h.cached_tokens + excluded.cached_tokens,
    reasoning_tokens = h.reasoning_tokens + excluded.reasoning_tokens,
    cost_micro_usd = h.cost_micro_usd + excluded.cost_micro_usd;
