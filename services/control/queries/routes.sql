-- name: CreateRoute :one
-- Set how a model's deployments are chosen and which models it falls back to.
INSERT INTO control.routes (model_id, strategy, fallback_models)
VALUES (@model_id, @strategy, @fallback_models)
RETURNING *;

-- name: ListRoutes :many
-- All routes with the name of the model they route, ordered by that name.
SELECT r.id, r.model_id, m.name AS model_name, r.strategy, r.fallback_models, r.created_at, r.updated_at
FROM control.routes AS r
JOIN control.models AS m ON m.id = r.model_id
ORDER BY m.name;

-- name: GetRouteForUpdate :one
-- One route with its model's name, locked until the end of the transaction.
SELECT r.id, r.model_id, m.name AS model_name, r.strategy, r.fallback_models, r.created_at, r.updated_at
FROM control.routes AS r
JOIN control.models AS m ON m.id = r.model_id
WHERE r.id = @id
FOR UPDATE OF r;

-- name: UpdateRoute :one
-- Replace how a model's deployments are chosen and which models it falls back to.
UPDATE control.routes
SET strategy = @strategy, fallback_models = @fallback_models, updated_at = now()
WHERE id = @id
RETURNING *;
