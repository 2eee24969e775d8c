-- name: CreateMembership :one
-- Give a user a role in a tenant; fails with a unique violation if they already have one.
INSERT INTO control.memberships (user_id, tenant_id, role)
VALUES (@user_id, @tenant_id, @role)
RETURNING *;

-- name: GetMembership :one
-- The role a user holds in a tenant, if any.
SELECT * FROM control.memberships WHERE user_id = @user_id AND tenant_id = @tenant_id;

-- name: UpdateMembershipRole :one
-- Change the role a user holds in a tenant.
UPDATE control.memberships SET role = @role
WHERE user_id = @user_id AND tenant_id = @tenant_id
RETURNING *;

-- name: DeleteMembership :execrows
-- Remove a user from a tenant.
DELETE FROM control.memberships WHERE user_id = @user_id AND tenant_id = @tenant_id;

-- name: ListMembershipsForUser :many
-- The tenants a user belongs to, with their role, ordered by tenant name.
SELECT t.id AS tenant_id, t.name AS tenant_name, t.status AS tenant_status, t.is_personal, m.role, m.created_at
FROM control.memberships AS m
JOIN control.tenants AS t ON t.id = m.tenant_id
WHERE m.user_id = @user_id
ORDER BY t.name;

-- name: ListMembershipsForTenant :many
-- The members of a tenant, with their role, ordered by email.
SELECT u.id AS user_id, u.email, u.display_name, u.disabled, m.role, m.created_at
FROM control.memberships AS m
JOIN control.users AS u ON u.id = m.user_id
WHERE m.tenant_id = @tenant_id
ORDER BY u.email;

-- name: CountTenantOwners :one
-- How many owners a tenant has (the last owner cannot be removed or demoted).
SELECT count(*)::bigint AS total FROM control.memberships WHERE tenant_id = @tenant_id AND role = 'owner';
