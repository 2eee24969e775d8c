-- Accounting schema: one row per proxied request, hourly rollups for summaries, and the
-- bookkeeping that makes consumption and alerting idempotent.
-- Ids of tenants, keys, users and deployments belong to the control service (another
-- schema, possibly another database), so they are stored without foreign keys.

CREATE SCHEMA IF NOT EXISTS accounting;

-- request_id is the JetStream Nats-Msg-Id as well: inserting with ON CONFLICT DO NOTHING
-- before acking gives an exactly-once effect. provider is '' when the request never
-- reached one (rejected by a limit, no healthy deployment, ...).
CREATE TABLE accounting.usage (
    request_id text PRIMARY KEY CHECK (length(request_id) BETWEEN 1 AND 200),
    tenant_id uuid NOT NULL,
    key_id uuid NOT NULL,
    user_id uuid,
    model text NOT NULL,
    deployment_id uuid,
    provider text NOT NULL DEFAULT '',
    endpoint text NOT NULL,
    status_code integer NOT NULL CHECK (status_code BETWEEN 100 AND 599),
    error_code text,
    stream boolean NOT NULL,
    prompt_tokens bigint NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens bigint NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    cached_tokens bigint NOT NULL DEFAULT 0 CHECK (cached_tokens >= 0),
    reasoning_tokens bigint NOT NULL DEFAULT 0 CHECK (reasoning_tokens >= 0),
    -- True when the upstream reported no usage and the proxy counted tokens itself.
    estimated boolean NOT NULL DEFAULT false,
    cost_micro_usd bigint NOT NULL CHECK (cost_micro_usd >= 0),
    -- The config revision whose prices produced cost_micro_usd.
    pricing_revision bigint NOT NULL CHECK (pricing_revision >= 0),
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    latency_ms integer NOT NULL CHECK (latency_ms >= 0),
    client_disconnected boolean NOT NULL DEFAULT false,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CHECK (finished_at >= started_at)
);
CREATE INDEX usage_tenant_started_idx ON accounting.usage (tenant_id, started_at DESC, request_id DESC);
CREATE INDEX usage_key_started_idx ON accounting.usage (key_id, started_at DESC, request_id DESC);
CREATE INDEX usage_started_idx ON accounting.usage (started_at DESC, request_id DESC);

-- Hourly rollup keyed by the UTC hour the request started in. A summary in any zone whose
-- offset is a whole number of hours maps each bucket to exactly one local day, so it is
-- answered from here without touching accounting.usage.
CREATE TABLE accounting.usage_hourly (
    bucket timestamptz NOT NULL CHECK (date_trunc('hour', bucket, 'UTC') = bucket),
    tenant_id uuid NOT NULL,
    key_id uuid NOT NULL,
    model text NOT NULL,
    provider text NOT NULL,
    requests bigint NOT NULL CHECK (requests >= 0),
    error_requests bigint NOT NULL CHECK (error_requests >= 0 AND error_requests <= requests),
    prompt_tokens bigint NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens bigint NOT NULL CHECK (completion_tokens >= 0),
    cached_tokens bigint NOT NULL CHECK (cached_tokens >= 0),
    reasoning_tokens bigint NOT NULL CHECK (reasoning_tokens >= 0),
    cost_micro_usd bigint NOT NULL CHECK (cost_micro_usd >= 0),
    PRIMARY KEY (tenant_id, bucket, key_id, model, provider)
);
CREATE INDEX usage_hourly_bucket_idx ON accounting.usage_hourly (bucket);
CREATE INDEX usage_hourly_key_idx ON accounting.usage_hourly (key_id, bucket);

-- Messages the consumer could not turn into usage rows (undecodable, failing a check).
-- They are stored, then acked, so one poison message cannot stall the stream.
CREATE TABLE accounting.dead_letters (
    id bigserial PRIMARY KEY,
    stream_sequence bigint NOT NULL CHECK (stream_sequence > 0),
    subject text NOT NULL,
    msg_id text,
    payload bytea NOT NULL,
    error text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz
);
CREATE INDEX dead_letters_unresolved_idx ON accounting.dead_letters (received_at) WHERE resolved_at IS NULL;

-- One alert per budget, period and threshold: claiming the row before sending makes
-- alerting idempotent across replicas and redeliveries.
CREATE TABLE accounting.budget_alerts (
    budget_id uuid NOT NULL,
    period_start timestamptz NOT NULL,
    threshold integer NOT NULL CHECK (threshold > 0),
    spent_micro_usd bigint NOT NULL CHECK (spent_micro_usd >= 0),
    claimed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (budget_id, period_start, threshold)
);
