-- name: InsertAuditEntry :one
-- Append one entry to the audit log; ip is a textual address (validated by the inet cast).
INSERT INTO control.audit_log (
    actor_id, actor_email, action, target_type, target_id, before, after, request_id, ip
)
VALUES (
    sqlc.narg(actor_id), sqlc.narg(actor_email), @action, @target_type, sqlc.narg(target_id),
    sqlc.narg(before), sqlc.narg(after), sqlc.narg(request_id), sqlc.narg(ip)::text::inet
)
RETURNING id, at;

-- name: ListAuditEntries :many
-- Audit entries in [since, until), newest first, optionally for one actor and/or target.
-- NULL filters match everything; pass before_id (the last id seen) to page further back.
-- sqlcgen: nullable=ip
SELECT
    id, at, actor_id, actor_email, action, target_type, target_id, before, after, request_id,
    host(ip)::text AS ip
FROM control.audit_log
WHERE at >= @since AND at < @until
    AND (sqlc.narg(actor_id)::uuid IS NULL OR actor_id = sqlc.narg(actor_id))
    AND (sqlc.narg(target_type)::text IS NULL OR target_type = sqlc.narg(target_type))
    AND (sqlc.narg(target_id)::text IS NULL OR target_id = sqlc.narg(target_id))
    AND (sqlc.narg(before_id)::bigint IS NULL OR id < sqlc.narg(before_id))
ORDER BY id DESC
LIMIT sqlc.arg('limit');

-- name: SearchAuditLog :many
-- Audit entries in [since, until), newest first, filtered by actor, action (exact or prefix
-- ending in '.'), target type and target id; NULL filters match everything. Page with before_id.
-- sqlcgen: nullable=ip
SELECT
    id, at, actor_id, actor_email, action, target_type, target_id, before, after, request_id,
    host(ip)::text AS ip
FROM control.audit_log
WHERE at >= @since AND at < @until
    AND (sqlc.narg(actor_id)::uuid IS NULL OR actor_id = sqlc.narg(actor_id))
    AND (sqlc.narg(actor_email)::text IS NULL OR actor_email = sqlc.narg(actor_email))
    AND (sqlc.narg(action)::text IS NULL OR action = sqlc.narg(action)
        OR (right(sqlc.narg(action)::text, 1) = '.' AND starts_with(action, sqlc.narg(action)::text)))
    AND (sqlc.narg(target_type)::text IS NULL OR target_type = sqlc.narg(target_type))
    AND (sqlc.narg(target_id)::text IS NULL OR target_id = sqlc.narg(target_id))
    AND (sqlc.narg(before_id)::bigint IS NULL OR id < sqlc.narg(before_id))
ORDER BY id DESC
LIMIT sqlc.arg('limit');
