-- name: CreateDeployment :one
-- Attach an upstream (provider + upstream model name) to a model.
INSERT INTO control.deployments (
    model_id, provider_id, upstream_model, weight, priority, rpm_limit, tpm_limit, settings, enabled
)
VALUES (
    @model_id, @provider_id, @upstream_model, @weight, @priority, sqlc.narg(rpm_limit),
    sqlc.narg(tpm_limit), @settings, @enabled
)
RETURNING *;

-- name: ListDeployments :many
-- All deployments, grouped by model, highest priority first.
SELECT * FROM control.deployments ORDER BY model_id, priority, id;

-- name: ListDeploymentsByModel :many
-- A model's deployments, highest priority (lowest number) first.
SELECT * FROM control.deployments WHERE model_id = @model_id ORDER BY priority, id;
