-- name: GetUsage :one
-- One request's usage row.
SELECT * FROM accounting.usage WHERE request_id = @request_id;

-- name: ListUsageRequests :many
-- The request log in [start_at, end_at), newest first, optionally for one tenant, key
-- and/or model. Keyset paging: pass the started_at and request_id of the last row seen
-- as before_started_at / before_request_id (both NULL for the first page).
SELECT * FROM accounting.usage
WHERE started_at >= @start_at AND started_at < @end_at
    AND (sqlc.narg(tenant_id)::uuid IS NULL OR tenant_id = sqlc.narg(tenant_id))
    AND (sqlc.narg(key_id)::uuid IS NULL OR key_id = sqlc.narg(key_id))
    AND (sqlc.narg(model)::text IS NULL OR model = sqlc.narg(model))
    AND (
        sqlc.narg(before_started_at)::timestamptz IS NULL
        OR (started_at, request_id) < (sqlc.narg(before_started_at), sqlc.narg(before_request_id)::text)
    )
ORDER BY started_at DESC, request_id DESC
LIMIT sqlc.arg('limit');

-- name: StoreUsageBatch :many
-- Insert a batch of usage rows, one array element per request, and add the rows actually
-- inserted, and only those, to the hourly rollup: ONE statement (one round trip, no re-read of
-- the rows), so each request is counted exactly once. All arrays must have the same length
-- (set-returning functions in a select list advance in lockstep). Rows whose request_id is
-- already stored are skipped; returns the request ids that were inserted.
-- sqlcgen: nullable_elements=user_ids,deployment_ids,error_codes
WITH inserted AS (
    INSERT INTO accounting.usage (
        request_id, tenant_id, key_id, user_id, model, deployment_id, provider, endpoint,
        status_code, error_code, stream, prompt_tokens, completion_tokens, cached_tokens,
        reasoning_tokens, estimated, cost_micro_usd, pricing_revision, started_at, finished_at,
        latency_ms, client_disconnected
    )
    SELECT
        unnest(@request_ids::text[]), unnest(@tenant_ids::uuid[]), unnest(@key_ids::uuid[]),
        unnest(@user_ids::uuid[]), unnest(@models::text[]), unnest(@deployment_ids::uuid[]),
        unnest(@providers::text[]), unnest(@endpoints::text[]), unnest(@status_codes::integer[]),
        unnest(@error_codes::text[]), unnest(@streams::boolean[]), unnest(@prompt_tokens::bigint[]),
        unnest(@completion_tokens::bigint[]), unnest(@cached_tokens::bigint[]),
        unnest(@reasoning_tokens::bigint[]), unnest(@estimated::boolean[]),
        unnest(@cost_micro_usd::bigint[]), unnest(@pricing_revisions::bigint[]),
        unnest(@started_at::timestamptz[]), unnest(@finished_at::timestamptz[]),
        unnest(@latency_ms::integer[]), unnest(@client_disconnected::boolean[])
    ON CONFLICT (request_id) DO NOTHING
    RETURNING request_id, started_at, tenant_id, key_id, model, provider, status_code,
        prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost_micro_usd
),
rolled_up AS (
    INSERT INTO accounting.usage_hourly AS h (
        bucket, tenant_id, key_id, model, provider, requests, error_requests, prompt_tokens,
        completion_tokens, cached_tokens, reasoning_tokens, cost_micro_usd
    )
    SELECT
        date_trunc('hour', i.started_at, 'UTC'), i.tenant_id, i.key_id, i.model, i.provider,
        count(*), count(*) FILTER (WHERE i.status_code >= 400), sum(i.prompt_tokens),
        sum(i.completion_tokens), sum(i.cached_tokens), sum(i.reasoning_tokens), sum(i.cost_micro_usd)
    FROM inserted AS i
    GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (tenant_id, bucket, key_id, model, provider) DO UPDATE SET
        requests = h.requests + excluded.requests,
        error_requests = h.error_requests + excluded.error_requests,
        prompt_tokens = h.prompt_tokens + excluded.prompt_tokens,
        completion_tokens = h.completion_tokens + excluded.completion_tokens,
        cached_tokens = h.cached_tokens + excluded.cached_tokens,
        reasoning_tokens = h.reasoning_tokens + excluded.reasoning_tokens,
        cost_micro_usd = h.cost_micro_usd + excluded.cost_micro_usd
)
SELECT request_id FROM inserted;
