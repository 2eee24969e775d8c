-- name: InsertDeadLetter :one
-- Keep a message the consumer could not process, with the reason.
INSERT INTO accounting.dead_letters (stream_sequence, subject, msg_id, payload, error)
VALUES (@stream_sequence, @subject, sqlc.narg(msg_id), @payload, @error)
RETURNING id;

-- name: ListUnresolvedDeadLetters :many
-- Dead letters not yet dealt with, oldest first.
SELECT * FROM accounting.dead_letters
WHERE resolved_at IS NULL
ORDER BY received_at, id
LIMIT sqlc.arg('limit');

-- name: ResolveDeadLetter :execrows
-- Mark a dead letter as dealt with (replayed or discarded).
UPDATE accounting.dead_letters SET resolved_at = now() WHERE id = @id AND resolved_at IS NULL;

-- name: RecordDeadLetter :execrows
-- Keep a message the consumer gave up on, once: returns 1 when it was recorded now, 0 when
-- the same message (subject, stream sequence, msg id) was already recorded.
INSERT INTO accounting.dead_letters (stream_sequence, subject, msg_id, payload, error, deliveries)
VALUES (@stream_sequence, @subject, sqlc.narg(msg_id), @payload, @error, @deliveries)
ON CONFLICT (subject, stream_sequence, msg_id) DO NOTHING;
