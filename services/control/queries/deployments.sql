-- name: CreateDeployment :one
-- Attach an upstream (provider + upstream model name) to a model, with its caps and cost.
INSERT INTO control.deployments (
    model_id, provider_id, upstream_model, weight, priority, rpm_limit, tpm_limit, settings, enabled,
    cost_input_micro_usd_per_mtok, cost_output_micro_usd_per_mtok, cost_cached_input_micro_usd_per_mtok
)
VALUES (
    @model_id, @provider_id, @upstream_model, @weight, @priority, sqlc.narg(rpm_limit),
    sqlc.narg(tpm_limit), @settings, @enabled, sqlc.narg(cost_input_micro_usd_per_mtok),
    sqlc.narg(cost_output_micro_usd_per_mtok), sqlc.narg(cost_cached_input_micro_usd_per_mtok)
)
RETURNING *;

-- name: GetDeploymentForUpdate :one
-- One deployment, locked until the end of the transaction (read-modify-write).
SELECT * FROM control.deployments WHERE id = @id FOR UPDATE;

-- name: UpdateDeployment :one
-- Replace a deployment's routing fields (weight, priority, caps, cost, enabled flag).
UPDATE control.deployments
SET weight = @weight, priority = @priority, rpm_limit = sqlc.narg(rpm_limit),
    tpm_limit = sqlc.narg(tpm_limit), enabled = @enabled,
    cost_input_micro_usd_per_mtok = sqlc.narg(cost_input_micro_usd_per_mtok),
    cost_output_micro_usd_per_mtok = sqlc.narg(cost_output_micro_usd_per_mtok),
    cost_cached_input_micro_usd_per_mtok = sqlc.narg(cost_cached_input_micro_usd_per_mtok),
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: ListDeployments :many
-- All deployments, grouped by model, highest priority first.
SELECT * FROM control.deployments ORDER BY model_id, priority, id;

-- name: ListDeploymentsByModel :many
-- A model's deployments, highest priority (lowest number) first.
SELECT * FROM control.deployments WHERE model_id = @model_id ORDER BY priority, id;

-- name: ListDeploymentNames :many
-- Deployments with their model's and provider's names (for the health view), by model name
-- then priority; in_service is false when the deployment, its model or its provider is disabled.
SELECT d.id, d.model_id, m.name AS model_name, d.provider_id, p.name AS provider_name,
    p.type AS provider_type, d.upstream_model, d.priority,
    (d.enabled AND m.enabled AND p.enabled)::boolean AS in_service
FROM control.deployments AS d
JOIN control.models AS m ON m.id = d.model_id
JOIN control.providers AS p ON p.id = d.provider_id
WHERE (sqlc.narg(deployment_id)::uuid IS NULL OR d.id = sqlc.narg(deployment_id))
    AND (sqlc.narg(model_name)::text IS NULL OR m.name = sqlc.narg(model_name))
ORDER BY m.name, d.priority, d.id;
