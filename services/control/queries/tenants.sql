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
