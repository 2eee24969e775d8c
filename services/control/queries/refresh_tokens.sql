-- name: CreateRefreshToken :one
-- Store a refresh token by its SHA-256 digest, in a family (a new family at login).
INSERT INTO control.refresh_tokens (family_id, user_id, digest, expires_at)
VALUES (@family_id, @user_id, @digest, @expires_at)
RETURNING *;

-- name: GetRefreshTokenByDigest :one
-- The refresh token with this digest, locked so concurrent refreshes of it serialise.
SELECT * FROM control.refresh_tokens WHERE digest = @digest FOR UPDATE;

-- name: MarkRefreshTokenUsed :execrows
-- Consume a live refresh token; 0 rows when it was already used or revoked.
UPDATE control.refresh_tokens SET used_at = now()
WHERE id = @id AND used_at IS NULL AND revoked_at IS NULL;

-- name: RevokeRefreshFamily :execrows
-- Revoke every token of a family (logout, or reuse of a consumed token).
UPDATE control.refresh_tokens SET revoked_at = now()
WHERE family_id = @family_id AND revoked_at IS NULL;

-- name: RevokeUserRefreshTokens :execrows
-- Revoke every refresh token of a user (password change, user disabled).
UPDATE control.refresh_tokens SET revoked_at = now()
WHERE user_id = @user_id AND revoked_at IS NULL;
