-- name: CreateUser :one
-- Create a user; the email is stored lower-cased.
INSERT INTO control.users (email, display_name, password_hash, is_platform_admin, oidc_issuer, oidc_subject)
VALUES (
    lower(@email::text), @display_name, sqlc.narg(password_hash), @is_platform_admin,
    sqlc.narg(oidc_issuer), sqlc.narg(oidc_subject)
)
RETURNING *;

-- name: GetUser :one
-- Fetch one user by id.
SELECT * FROM control.users WHERE id = @id;

-- name: GetUserByEmail :one
-- Fetch one user by email, compared case-insensitively.
SELECT * FROM control.users WHERE email = lower(@email::text);

-- name: GetUserByOidc :one
-- Fetch the user linked to an OIDC issuer and subject.
SELECT * FROM control.users WHERE oidc_issuer = @oidc_issuer AND oidc_subject = @oidc_subject;

-- name: ListUsers :many
-- One page of users ordered by email.
SELECT * FROM control.users
ORDER BY email
LIMIT sqlc.arg('limit') OFFSET sqlc.arg('offset');

-- name: UpdateUserPasswordHash :execrows
-- Replace a user's argon2id password hash (NULL removes password sign-in).
UPDATE control.users SET password_hash = sqlc.narg(password_hash) WHERE id = @id;

-- name: SetUserDisabled :execrows
-- Disable or re-enable a user.
UPDATE control.users SET disabled = @disabled WHERE id = @id;

-- name: SetUserPlatformAdmin :execrows
-- Grant or withdraw the platform admin role.
UPDATE control.users SET is_platform_admin = @is_platform_admin WHERE id = @id;

-- name: CountUsers :one
-- How many users exist (for paging).
SELECT count(*)::bigint AS total FROM control.users;

-- name: UpdateUser :one
-- Replace a user's display name, disabled flag and platform admin role.
UPDATE control.users
SET display_name = @display_name, disabled = @disabled, is_platform_admin = @is_platform_admin
WHERE id = @id
RETURNING *;

-- name: LinkUserOidc :execrows
-- Link a user who has no OIDC identity yet to one (first SSO sign-in matched by email).
UPDATE control.users SET oidc_issuer = @oidc_issuer, oidc_subject = @oidc_subject
WHERE id = @id AND oidc_issuer IS NULL;
