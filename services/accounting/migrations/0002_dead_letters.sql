-- Dead letters become idempotent and say how often the message was delivered. A message can be
-- dead-lettered twice (the ack after the insert is lost, or two replicas see the same
-- max-deliveries advisory); the unique index turns the second insert into a no-op.

ALTER TABLE accounting.dead_letters
    ADD COLUMN deliveries integer NOT NULL DEFAULT 1 CHECK (deliveries >= 0);

CREATE UNIQUE INDEX dead_letters_message_uidx
    ON accounting.dead_letters (subject, stream_sequence, msg_id) NULLS NOT DISTINCT;
