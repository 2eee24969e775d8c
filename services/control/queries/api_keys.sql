-- name: CreateApiKey :one
-- Store a new virtual key by its digest (the key itself is never stored).
INSERT INTO control.api_keys (
    tenant_id, user_id, name, digest, prefix, last4, allowed_models, allowed_endpoints,
    rpm_limit, tpm_limit, max_parallel, expires_at, last_rotated_from
)
VALUES (
    @tenant_id, sqlc.narg(user_id), @name, @digest, @prefix, @last4, @allowed_models, @allowed_endpoints,
    sqlc.narg(rpm_limit), sqlc.narg(tpm_limit), sqlc.narg(max_parallel), sqlc.narg(expires_at),
    sqlc.narg(last_rotated_from)
)
RETURNING *;

-- name: GetApiKey :one
-- Fetch one key by id.
SELECT * FROM control.api_keys WHERE id = @id;

-- name: GetApiKeyByDigest :one
-- Fetch one key by the hex HMAC-SHA256 digest of its secret.
SELECT * FROM control.api_keys WHERE digest = @digest;

-- name: ListApiKeysByTenant :many
-- One page of a tenant's keys, newest first, revoked ones included.
SELECT * FROM control.api_keys
WHERE tenant_id = @tenant_id
ORDER BY created_at DESC, id
LIMIT sqlc.arg('limit') OFFSET sqlc.arg('offset');

-- name: RevokeApiKey :one
-- Revoke a key now; returns no row if it does not exist or was already revoked.
UPDATE control.api_keys SET revoked_at = now()
WHERE id = @id AND revoked_at IS NULL
RETURNING *;

-- name: SetApiKeyDisabled :one
-- Disable or re-enable a key without revoking it.
UPDATE control.api_keys SET disabled = @disabled WHERE id = @id
RETURNING *;

-- name: ListActiveApiKeys :many
-- Keys that can authenticate right now (not revoked, disabled or expired, tenant active),
-- with their tenant's limit overrides: what the Redis key cache is rebuilt from.
-- Paged by id: pass the last id of the previous page as after_id (the nil UUID to start).
SELECT
    k.id, k.tenant_id, k.user_id, k.digest, k.allowed_models, k.allowed_endpoints,
    k.rpm_limit, k.tpm_limit, k.max_parallel, k.expires_at,
    t.rpm_limit AS tenant_rpm_limit, t.tpm_limit AS tenant_tpm_limit,
    t.max_parallel AS tenant_max_parallel
FROM control.api_keys AS k
JOIN control.tenants AS t ON t.id = k.tenant_id
WHERE k.revoked_at IS NULL
    AND NOT k.disabled
    AND (k.expires_at IS NULL OR k.expires_at > now())
    AND t.status = 'active'
    AND k.id > @after_id
ORDER BY k.id
LIMIT sqlc.arg('limit');

-- name: CountApiKeysByTenant :one
-- How many keys a tenant has, revoked ones included (for paging).
SELECT count(*)::bigint AS total FROM control.api_keys WHERE tenant_id = @tenant_id;

-- name: GetKeyRecordByDigest :one
-- One key with its tenant's status and limits (what a KeyRecord carries), revoked or not.
-- read_at versions the record in Redis: a record read later never loses to one read earlier.
SELECT
    k.id, k.tenant_id, k.user_id, k.name, k.digest, k.prefix, k.last4, k.allowed_models,
    k.allowed_endpoints, k.rpm_limit, k.tpm_limit, k.max_parallel, k.expires_at, k.revoked_at,
    k.disabled, t.status AS tenant_status, t.rpm_limit AS tenant_rpm_limit,
    t.tpm_limit AS tenant_tpm_limit, t.max_parallel AS tenant_max_parallel,
    t.allowed_models AS tenant_models, statement_timestamp()::timestamptz AS read_at
FROM control.api_keys AS k
JOIN control.tenants AS t ON t.id = k.tenant_id
WHERE k.digest = @digest;

-- name: ListKeyRecords :many
-- Unrevoked keys with their tenant's status and limits, optionally of one tenant, paged by id:
-- pass the last id of the previous page as after_id (the nil UUID to start).
SELECT
    k.id, k.tenant_id, k.user_id, k.name, k.digest, k.prefix, k.last4, k.allowed_models,
    k.allowed_endpoints, k.rpm_limit, k.tpm_limit, k.max_parallel, k.expires_at, k.revoked_at,
    k.disabled, t.status AS tenant_status, t.rpm_limit AS tenant_rpm_limit,
    t.tpm_limit AS tenant_tpm_limit, t.max_parallel AS tenant_max_parallel,
    t.allowed_models AS tenant_models, statement_timestamp()::timestamptz AS read_at
FROM control.api_keys AS k
JOIN control.tenants AS t ON t.id = k.tenant_id
WHERE k.revoked_at IS NULL
    AND (sqlc.narg(tenant_id)::uuid IS NULL OR k.tenant_id = sqlc.narg(tenant_id))
    AND k.id > @after_id
ORDER BY k.id
LIMIT sqlc.arg('limit');

-- name: UpdateApiKeySettings :one
-- Replace a key's name, model allow-list, limit overrides (NULL inherits) and disabled flag.
UPDATE control.api_keys
SET name = @name, allowed_models = @allowed_models, rpm_limit = sqlc.narg(rpm_limit),
    tpm_limit = sqlc.narg(tpm_limit), max_parallel = sqlc.narg(max_parallel), disabled = @disabled
WHERE id = @id
RETURNING *;

-- name: ShortenApiKeyExpiry :one
-- Make an unrevoked key expire at @expires_at unless it already expires sooner (rotation grace).
UPDATE control.api_keys
SET expires_at = CASE WHEN expires_at IS NULL OR expires_at > @expires_at THEN @expires_at ELSE expires_at END
WHERE id = @id AND revoked_at IS NULL
RETURNING *;

-- name: ListApiKeysByUser :many
-- One page of the keys a user created for themselves, newest first, revoked ones included.
SELECT * FROM control.api_keys
WHERE user_id = @user_id
ORDER BY created_at DESC, id
LIMIT sqlc.arg('limit') OFFSET sqlc.arg('offset');

-- name: CountApiKeysByUser :one
-- How many keys a user created for themselves (for paging).
SELECT count(*)::bigint AS total FROM control.api_keys WHERE user_id = @user_id;
