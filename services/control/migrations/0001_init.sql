-- Control plane schema: tenants, identities, virtual keys, the model catalogue and
-- its routing, budgets, platform settings, config revisions and the audit trail.
-- Conventions: ids are uuid (gen_random_uuid is built in since PG 13); money is integer
-- micro-USD; a NULL limit override means "inherit the default"; updated_at is kept by
-- a trigger so queries never have to remember it.

CREATE SCHEMA IF NOT EXISTS control;

CREATE FUNCTION control.touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TABLE control.tenants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    is_personal boolean NOT NULL DEFAULT false,
    rpm_limit integer CHECK (rpm_limit > 0),
    tpm_limit bigint CHECK (tpm_limit > 0),
    max_parallel integer CHECK (max_parallel > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE control.users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- citext is not available: emails are stored lower-cased, and the check keeps it so.
    email text NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '_%@_%'),
    display_name text NOT NULL DEFAULT '' CHECK (length(display_name) <= 200),
    -- NULL for users who only sign in through OIDC.
    password_hash text CHECK (password_hash LIKE '$argon2id$%'),
    is_platform_admin boolean NOT NULL DEFAULT false,
    oidc_issuer text,
    oidc_subject text,
    disabled boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL)),
    UNIQUE (oidc_issuer, oidc_subject)
);

CREATE TABLE control.memberships (
    user_id uuid NOT NULL REFERENCES control.users (id) ON DELETE CASCADE,
    tenant_id uuid NOT NULL REFERENCES control.tenants (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, tenant_id)
);
CREATE INDEX memberships_tenant_id_idx ON control.memberships (tenant_id);

-- A virtual key is stored only as the lower-case hex HMAC-SHA256 of the key (the same
-- digest the proxy looks up in Redis as gw:key:{digest}); prefix and last4 let people
-- recognise it. Keys of a tenant must be revoked before the tenant can be deleted.
CREATE TABLE control.api_keys (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES control.tenants (id) ON DELETE RESTRICT,
    user_id uuid REFERENCES control.users (id) ON DELETE SET NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    digest text NOT NULL UNIQUE CHECK (digest ~ '^[0-9a-f]{64}$'),
    prefix text NOT NULL CHECK (length(prefix) BETWEEN 1 AND 32),
    last4 text NOT NULL CHECK (length(last4) = 4),
    -- Empty means "no restriction".
    allowed_models text[] NOT NULL DEFAULT '{}',
    allowed_endpoints text[] NOT NULL DEFAULT '{}',
    rpm_limit integer CHECK (rpm_limit > 0),
    tpm_limit bigint CHECK (tpm_limit > 0),
    max_parallel integer CHECK (max_parallel > 0),
    expires_at timestamptz,
    revoked_at timestamptz,
    disabled boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_rotated_from uuid REFERENCES control.api_keys (id) ON DELETE SET NULL,
    CHECK (array_position(allowed_models, NULL) IS NULL),
    CHECK (array_position(allowed_endpoints, NULL) IS NULL),
    CHECK (expires_at IS NULL OR expires_at > created_at)
);
CREATE INDEX api_keys_tenant_id_idx ON control.api_keys (tenant_id, created_at);
CREATE INDEX api_keys_user_id_idx ON control.api_keys (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX api_keys_live_idx ON control.api_keys (created_at) WHERE revoked_at IS NULL;

-- Provider credentials use envelope encryption: credentials_ciphertext is sealed with a
-- per-record data key, which is itself wrapped by the key-encryption key credentials_key_id.
-- The four columns are set together or not at all (a local model server needs none).
CREATE TABLE control.providers (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    type text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_]*$'),
    -- NULL means the adapter's default endpoint.
    base_url text CHECK (base_url ~ '^https?://'),
    settings jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    credentials_ciphertext bytea,
    credentials_key_id text,
    credentials_wrapped_key bytea,
    credentials_nonce bytea,
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nulls(credentials_ciphertext, credentials_key_id, credentials_wrapped_key, credentials_nonce)
        IN (0, 4))
);

-- A model is the alias clients call. Prices are integer micro-USD per million tokens;
-- NULL cached-input / reasoning prices mean "charged as input / output". NULL timeouts
-- inherit the gateway defaults.
CREATE TABLE control.models (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    owned_by text NOT NULL DEFAULT 'gateway',
    capabilities text[] NOT NULL DEFAULT '{}',
    context_window integer CHECK (context_window > 0),
    input_price_micro_usd_per_mtok bigint NOT NULL DEFAULT 0 CHECK (input_price_micro_usd_per_mtok >= 0),
    output_price_micro_usd_per_mtok bigint NOT NULL DEFAULT 0 CHECK (output_price_micro_usd_per_mtok >= 0),
    cached_input_price_micro_usd_per_mtok bigint CHECK (cached_input_price_micro_usd_per_mtok >= 0),
    reasoning_price_micro_usd_per_mtok bigint CHECK (reasoning_price_micro_usd_per_mtok >= 0),
    sync_timeout_ms integer CHECK (sync_timeout_ms > 0),
    stream_idle_timeout_ms integer CHECK (stream_idle_timeout_ms > 0),
    total_timeout_ms integer CHECK (total_timeout_ms > 0),
    upstream_timeout_ms integer CHECK (upstream_timeout_ms > 0),
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (array_position(capabilities, NULL) IS NULL)
);

-- A deployment is one upstream serving a model: provider + the provider's model name.
CREATE TABLE control.deployments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    model_id uuid NOT NULL REFERENCES control.models (id) ON DELETE CASCADE,
    provider_id uuid NOT NULL REFERENCES control.providers (id) ON DELETE RESTRICT,
    upstream_model text NOT NULL CHECK (length(upstream_model) BETWEEN 1 AND 200),
    weight integer NOT NULL DEFAULT 1 CHECK (weight >= 0),
    priority integer NOT NULL DEFAULT 0 CHECK (priority >= 0),
    rpm_limit integer CHECK (rpm_limit > 0),
    tpm_limit bigint CHECK (tpm_limit > 0),
    settings jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (model_id, provider_id, upstream_model)
);
CREATE INDEX deployments_provider_id_idx ON control.deployments (provider_id);

-- How a model's deployments are chosen, and which models to fall back to (in order).
CREATE TABLE control.routes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    model_id uuid NOT NULL UNIQUE REFERENCES control.models (id) ON DELETE CASCADE,
    strategy text NOT NULL DEFAULT 'weighted'
        CHECK (strategy IN ('weighted', 'priority', 'round_robin', 'least_busy', 'lowest_latency')),
    fallback_models text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (array_position(fallback_models, NULL) IS NULL)
);

-- scope_id is a tenant id or an api key id depending on scope (hence no foreign key).
-- thresholds are percentages of the limit at which alerts fire.
CREATE TABLE control.budgets (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    scope text NOT NULL CHECK (scope IN ('tenant', 'key')),
    scope_id uuid NOT NULL,
    limit_micro_usd bigint NOT NULL CHECK (limit_micro_usd >= 0),
    period text NOT NULL CHECK (period IN ('daily', 'weekly', 'monthly', 'rolling')),
    rolling_days integer CHECK (rolling_days BETWEEN 1 AND 366),
    -- Evaluating the zone rejects names Postgres does not know.
    timezone text NOT NULL DEFAULT 'UTC'
        CHECK ((TIMESTAMPTZ '2000-01-01 00:00:00+00' AT TIME ZONE timezone) IS NOT NULL),
    hard boolean NOT NULL DEFAULT true,
    thresholds integer[] NOT NULL DEFAULT '{50,80,100}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((period = 'rolling') = (rolling_days IS NOT NULL)),
    CHECK (array_position(thresholds, NULL) IS NULL AND 0 < ALL (thresholds) AND 1000 >= ALL (thresholds)),
    UNIQUE NULLS NOT DISTINCT (scope, scope_id, period, rolling_days)
);

-- Where alerts go. tenant_id NULL is a platform-wide channel.
CREATE TABLE control.alert_channels (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid REFERENCES control.tenants (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind text NOT NULL CHECK (kind IN ('webhook', 'email')),
    -- A URL for webhooks, an address for email.
    target text NOT NULL CHECK (length(target) BETWEEN 1 AND 2000),
    settings jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (tenant_id, name)
);

CREATE TABLE control.settings (
    key text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_.]*$'),
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Each published config snapshot takes the next revision; identity values only grow
-- (a rolled-back transaction leaves a gap, never a repeat).
CREATE TABLE control.config_revisions (
    revision bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    actor_id uuid,
    reason text NOT NULL DEFAULT ''
);

-- Append-only: actor and target are copied, not referenced, so entries outlive what
-- they describe.
CREATE TABLE control.audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor_id uuid,
    actor_email text,
    action text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
    target_type text NOT NULL CHECK (length(target_type) BETWEEN 1 AND 100),
    target_id text,
    before jsonb,
    after jsonb,
    request_id text,
    ip inet
);
CREATE INDEX audit_log_at_idx ON control.audit_log (at);
CREATE INDEX audit_log_actor_idx ON control.audit_log (actor_id, at) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_log_target_idx ON control.audit_log (target_type, target_id, at);

CREATE FUNCTION control.forbid_audit_log_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'control.audit_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON control.audit_log
    FOR EACH ROW EXECUTE FUNCTION control.forbid_audit_log_change();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON control.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION control.forbid_audit_log_change();

CREATE TRIGGER tenants_touch BEFORE UPDATE ON control.tenants
    FOR EACH ROW EXECUTE FUNCTION control.touch_updated_at();
CREATE TRIGGER users_touch BEFORE UPDATE ON control.users
    FOR EACH ROW EXECUTE FUNCTION control.touch_updated_at();
CREATE TRIGGER api_keys_touch BEFORE UPDATE ON control.api_keys
    FOR EACH ROW EXECUTE FUNCTION control.touch_updated_at();
CREATE TRIGGER providers_touch BEFORE UPDATE ON control.providers
    FOR EACH ROW EXECUTE FUNCTION control.touch_updated_at();
CREATE TRIGGER models_touch BEFORE UPDATE ON control.models
    FOR EACH ROW EXECUTE FUNCTION control.touch_updated_at();
CREATE TRIGGER deployments_touch BEFORE UPDATE ON control.deployments
    FOR EACH ROW EXECUTE FUNCTION control.touch_updated_at();
CREATE TRIGGER routes_touch BEFORE UPDATE ON control.routes
    FOR EACH ROW EXECUTE FUNCTION control.touch_updated_at();
CREATE TRIGGER budgets_touch BEFORE UPDATE ON control.budgets
    FOR EACH ROW EXECUTE FUNCTION control.touch_updated_at();
CREATE TRIGGER alert_channels_touch BEFORE UPDATE ON control.alert_channels
    FOR EACH ROW EXECUTE FUNCTION control.touch_updated_at();
CREATE TRIGGER settings_touch BEFORE UPDATE ON control.settings
    FOR EACH ROW EXECUTE FUNCTION control.touch_updated_at();
