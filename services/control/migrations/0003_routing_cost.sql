-- Issue 8: the lowest-cost routing strategy and what each deployment costs the operator.
-- Additive only: existing routes keep their strategy and existing deployments have no cost
-- (the data plane then ranks them by their model's price).

ALTER TABLE control.routes
    DROP CONSTRAINT routes_strategy_check,
    ADD CONSTRAINT routes_strategy_check
        CHECK (strategy IN ('weighted', 'priority', 'round_robin', 'least_busy', 'lowest_latency', 'lowest_cost'));

-- What the provider charges for a deployment, integer micro-USD per million tokens (like model
-- prices). All NULL = unknown; input and output are set together; NULL cached input = input.
ALTER TABLE control.deployments
    ADD COLUMN cost_input_micro_usd_per_mtok bigint CHECK (cost_input_micro_usd_per_mtok >= 0),
    ADD COLUMN cost_output_micro_usd_per_mtok bigint CHECK (cost_output_micro_usd_per_mtok >= 0),
    ADD COLUMN cost_cached_input_micro_usd_per_mtok bigint
        CHECK (cost_cached_input_micro_usd_per_mtok >= 0),
    ADD CONSTRAINT deployments_cost_complete CHECK (
        (cost_input_micro_usd_per_mtok IS NULL) = (cost_output_micro_usd_per_mtok IS NULL)
        AND (cost_cached_input_micro_usd_per_mtok IS NULL OR cost_input_micro_usd_per_mtok IS NOT NULL)
    );
