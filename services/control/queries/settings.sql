-- name: GetSetting :one
-- One platform setting by key.
SELECT * FROM control.settings WHERE key = @key;

-- name: ListSettings :many
-- All platform settings ordered by key.
SELECT * FROM control.settings ORDER BY key;

-- name: UpsertSetting :one
-- Create or replace a platform setting.
INSERT INTO control.settings (key, value)
VALUES (@key, @value)
ON CONFLICT (key) DO UPDATE SET value = excluded.value
RETURNING *;
