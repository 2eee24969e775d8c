-- name: CreateProvider :one
-- Create a provider; the credential columns hold the envelope-encrypted secret or are all NULL.
INSERT INTO control.providers (
    name, type, base_url, settings, credentials_ciphertext, credentials_key_id,
    credentials_wrapped_key, credentials_nonce, enabled
)
VALUES (
    @name, @type, sqlc.narg(base_url), @settings, sqlc.narg(credentials_ciphertext),
    sqlc.narg(credentials_key_id), sqlc.narg(credentials_wrapped_key), sqlc.narg(credentials_nonce), @enabled
)
RETURNING *;

-- name: GetProvider :one
-- Fetch one provider by id.
SELECT * FROM control.providers WHERE id = @id;

-- name: GetProviderByName :one
-- Fetch one provider by its unique name.
SELECT * FROM control.providers WHERE name = @name;

-- name: ListProviders :many
-- All providers ordered by name.
SELECT * FROM control.providers ORDER BY name;

-- name: SetProviderCredentials :one
-- Replace a provider's envelope-encrypted credentials (the four values together, or all NULL).
-- Separate from CreateProvider because the encryption binds the provider id, known after insert.
UPDATE control.providers
SET credentials_ciphertext = sqlc.narg(credentials_ciphertext),
    credentials_key_id = sqlc.narg(credentials_key_id),
    credentials_wrapped_key = sqlc.narg(credentials_wrapped_key),
    credentials_nonce = sqlc.narg(credentials_nonce)
WHERE id = @id
RETURNING *;

-- name: UpdateProvider :one
-- Replace a provider's endpoint, settings and enabled flag (credentials change separately).
UPDATE control.providers
SET base_url = sqlc.narg(base_url), settings = @settings, enabled = @enabled
WHERE id = @id
RETURNING *;

-- name: ListProvidersToRewrap :many
-- Providers whose credentials are wrapped under another master key than @key_id, locked until
-- the re-wrap commits (a concurrent credential change waits rather than being overwritten).
SELECT * FROM control.providers
WHERE credentials_key_id IS NOT NULL AND credentials_key_id <> @key_id
ORDER BY id
FOR UPDATE;
