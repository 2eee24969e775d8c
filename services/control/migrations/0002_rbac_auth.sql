-- Issue 6: tenant model entitlements, refresh-token families, personal-tenant ownership.
-- Additive only: existing rows keep working (an empty entitlement list means "every model").

-- Models a tenant's keys may use; empty means every model (what tenants had before).
ALTER TABLE control.tenants
    ADD COLUMN allowed_models text[] NOT NULL DEFAULT '{}'
        CHECK (array_position(allowed_models, NULL) IS NULL),
    -- The user a personal tenant belongs to (one each); NULL for shared tenants.
    ADD COLUMN personal_owner_id uuid UNIQUE REFERENCES control.users (id) ON DELETE SET NULL;

-- Rotating refresh tokens. Each login starts a family; every refresh consumes the presented
-- token (used_at) and issues its successor in the same family. Presenting a consumed token
-- again is reuse (a stolen token raced its owner): the whole family is revoked. Tokens are
-- stored only as SHA-256 digests.
CREATE TABLE control.refresh_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    family_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES control.users (id) ON DELETE CASCADE,
    digest text NOT NULL UNIQUE CHECK (digest ~ '^[0-9a-f]{64}$'),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON control.refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON control.refresh_tokens (user_id);
