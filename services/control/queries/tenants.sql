-- name: CreateTenant :one
-- Create a tenant; NULL rate-limit overrides inherit the gateway defaults.
INSERT INTO control.tenants (name, is_personal, rpm_limit, tpm_limit, max_parallel)
VALUES (@name, @is_personal, sqlc.narg(rpm_limit), sqlc.narg(tpm_limit), sqlc.narg(max_parallel))
RETURNING *;

-- name: GetTenant :one
-- Fetch one tenant by id.
SELECT * FROM control.tenants WHERE id = @id;

-- name: GetTenantByName :one
-- Fetch one tenant by its unique name.
SELECT * FROM control.tenants WHERE name = @name;

-- name: ListTenants :many
-- One page of tenants ordered by name.
SELECT * FROM control.tenants
ORDER BY name
LIMIT sqlc.arg('limit') OFFSET sqlc.arg('offset');

-- name: CountTenants :one
-- How many tenants exist (for paging).
SELECT count(*)::bigint AS total FROM control.tenants;

-- name: UpdateTenantStatus :one
-- Activate or suspend a tenant; returns no row when the tenant does not exist.
UPDATE control.tenants SET status = @status WHERE id = @id
RETURNING *;

-- name: UpdateTenantLimits :one
-- Replace a tenant's rate-limit overrides (NULL inherits the defaults).
UPDATE control.tenants
SET rpm_limit = sqlc.narg(rpm_limit), tpm_limit = sqlc.narg(tpm_limit), max_parallel = sqlc.narg(max_parallel)
WHERE id = @id
RETURNING *;

-- name: ListTenantsForUser :many
-- One page of the tenants a user is a member of, ordered by name.
SELECT t.* FROM control.tenants AS t
JOIN control.memberships AS m ON m.tenant_id = t.id
WHERE m.user_id = @user_id
ORDER BY t.name
LIMIT sqlc.arg('limit') OFFSET sqlc.arg('offset');

-- name: CountTenantsForUser :one
-- How many tenants a user is a member of (for paging).
SELECT count(*)::bigint AS total FROM control.memberships WHERE user_id = @user_id;

-- name: CreatePersonalTenant :one
-- Create the personal tenant of a user with the given model entitlements.
INSERT INTO control.tenants (name, is_personal, personal_owner_id, allowed_models)
VALUES (@name, true, @personal_owner_id, @allowed_models)
RETURNING *;

-- name: GetPersonalTenant :one
-- The personal tenant of a user, if it exists.
SELECT * FROM control.tenants WHERE personal_owner_id = @personal_owner_id;

-- name: SetTenantAllowedModels :one
-- Replace the models a tenant's keys may use (empty: every model).
UPDATE control.tenants SET allowed_models = @allowed_models WHERE id = @id
RETURNING *;

-- name: SetPersonalTenantsAllowedModels :many
-- Give every personal tenant the same entitlements; returns the ids of the tenants changed.
UPDATE control.tenants SET allowed_models = @allowed_models
WHERE is_personal AND allowed_models IS DISTINCT FROM @allowed_models
RETURNING id;

-- name: ListTenantsByKind :many
-- One page of tenants ordered by name, personal tenants only when include_personal.
SELECT * FROM control.tenants
WHERE @include_personal::boolean OR NOT is_personal
ORDER BY name
LIMIT sqlc.arg('limit') OFFSET sqlc.arg('offset');

-- name: CountTenantsByKind :one
-- How many tenants ListTenantsByKind pages through.
SELECT count(*)::bigint AS total FROM control.tenants WHERE @include_personal::boolean OR NOT is_personal;
