-- Budget alert history: one row per alert and channel. The row is written 'pending' in the same
-- transaction that claims the alert (accounting.budget_alerts), then marked 'sent' or 'failed'
-- once delivery ends; a 'pending' row left by a crash is picked up again (at-least-once).
-- Channel ids belong to the control service (control.alert_channels): no foreign key.

CREATE TABLE accounting.alert_deliveries (
    id bigserial PRIMARY KEY,
    budget_id uuid NOT NULL,
    period_start timestamptz NOT NULL,
    threshold integer NOT NULL CHECK (threshold > 0),
    channel_id uuid NOT NULL,
    channel_kind text NOT NULL CHECK (channel_kind IN ('webhook', 'email')),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error text,
    -- The figures the alert reported, so a resend after a crash says the same thing.
    scope text NOT NULL CHECK (scope IN ('tenant', 'key')),
    scope_id uuid NOT NULL,
    period text NOT NULL,
    period_end timestamptz NOT NULL,
    limit_micro_usd bigint NOT NULL CHECK (limit_micro_usd >= 0),
    spent_micro_usd bigint NOT NULL CHECK (spent_micro_usd >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- When a sender last took the delivery on; a pending one not taken on for minutes is stale.
    sending_since timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    UNIQUE (budget_id, period_start, threshold, channel_id),
    FOREIGN KEY (budget_id, period_start, threshold)
        REFERENCES accounting.budget_alerts (budget_id, period_start, threshold) ON DELETE CASCADE
);
CREATE INDEX alert_deliveries_budget_idx ON accounting.alert_deliveries (budget_id, created_at DESC);
CREATE INDEX alert_deliveries_pending_idx ON accounting.alert_deliveries (sending_since) WHERE status = 'pending';
