-- name: NextConfigRevision :one
-- Take the next config snapshot revision (strictly greater than every earlier one).
INSERT INTO control.config_revisions (actor_id, reason)
VALUES (sqlc.narg(actor_id), @reason)
RETURNING *;

-- name: LatestConfigRevision :one
-- The highest revision taken so far, 0 before the first.
SELECT COALESCE(max(revision), 0)::bigint AS revision FROM control.config_revisions;

-- name: LockConfigPublishing :exec
-- Serialise snapshot publishing across control replicas until the transaction ends, so
-- revision order is the order in which the database states were read.
SELECT pg_advisory_xact_lock(hashtext('control.config_publishing')::bigint);

-- name: AdvanceConfigRevision :exec
-- Make the next revision follow `revision`: used when the data plane holds a snapshot newer than
-- this database (e.g. after a restore), so later revisions are still newer. Call it only with a
-- revision above LatestConfigRevision, under LockConfigPublishing.
SELECT setval(pg_get_serial_sequence('control.config_revisions', 'revision'), @revision::bigint);
