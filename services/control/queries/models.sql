-- name: CreateModel :one
-- Create a model alias with its prices (integer micro-USD per million tokens).
INSERT INTO control.models (
    name, owned_by, capabilities, context_window,
    input_price_micro_usd_per_mtok, output_price_micro_usd_per_mtok,
    cached_input_price_micro_usd_per_mtok, reasoning_price_micro_usd_per_mtok,
    sync_timeout_ms, stream_idle_timeout_ms, total_timeout_ms, upstream_timeout_ms, enabled
)
VALUES (
    @name, @owned_by, @capabilities, sqlc.narg(context_window),
    @input_price_micro_usd_per_mtok, @output_price_micro_usd_per_mtok,
    sqlc.narg(cached_input_price_micro_usd_per_mtok), sqlc.narg(reasoning_price_micro_usd_per_mtok),
    sqlc.narg(sync_timeout_ms), sqlc.narg(stream_idle_timeout_ms), sqlc.narg(total_timeout_ms),
    sqlc.narg(upstream_timeout_ms), @enabled
)
RETURNING *;

-- name: GetModel :one
-- Fetch one model by id.
SELECT * FROM control.models WHERE id = @id;

-- name: GetModelByName :one
-- Fetch one model by the alias clients call.
SELECT * FROM control.models WHERE name = @name;

-- name: ListModels :many
-- All models ordered by name.
SELECT * FROM control.models ORDER BY name;

-- name: UpdateModelPricing :one
-- Replace a model's prices (integer micro-USD per million tokens).
UPDATE control.models
SET input_price_micro_usd_per_mtok = @input_price_micro_usd_per_mtok,
    output_price_micro_usd_per_mtok = @output_price_micro_usd_per_mtok,
    cached_input_price_micro_usd_per_mtok = sqlc.narg(cached_input_price_micro_usd_per_mtok),
    reasoning_price_micro_usd_per_mtok = sqlc.narg(reasoning_price_micro_usd_per_mtok)
WHERE id = @id
RETURNING *;

-- name: UpdateModelDetails :one
-- Replace a model's descriptive fields and enabled flag.
UPDATE control.models
SET owned_by = @owned_by, capabilities = @capabilities, context_window = sqlc.narg(context_window),
    enabled = @enabled
WHERE id = @id
RETURNING *;
