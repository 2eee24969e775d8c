-- name: CreateAlertChannel :one
-- Create where budget alerts go: a tenant's channel, or a platform-wide one (tenant_id NULL).
INSERT INTO control.alert_channels (tenant_id, name, kind, target, settings, enabled)
VALUES (sqlc.narg(tenant_id), @name, @kind, @target, @settings, @enabled)
RETURNING *;

-- name: GetAlertChannel :one
-- One alert channel by id.
SELECT * FROM control.alert_channels WHERE id = @id;

-- name: ListAlertChannelsByTenant :many
-- A tenant's alert channels by name.
SELECT * FROM control.alert_channels WHERE tenant_id = @tenant_id ORDER BY name, id;

-- name: ListPlatformAlertChannels :many
-- The platform-wide alert channels (they hear about every budget) by name.
SELECT * FROM control.alert_channels WHERE tenant_id IS NULL ORDER BY name, id;

-- name: UpdateAlertChannel :one
-- Replace a channel's name, target, settings (the webhook secret) and enabled flag.
UPDATE control.alert_channels
SET name = @name, target = @target, settings = @settings, enabled = @enabled
WHERE id = @id
RETURNING *;

-- name: DeleteAlertChannel :one
-- Delete an alert channel; returns the deleted row (none when it did not exist).
DELETE FROM control.alert_channels WHERE id = @id RETURNING *;
