-- name: ClaimBudgetAlert :execrows
-- Claim the right to send the alert for a budget's threshold in one period: returns 1 for
-- the first claimant, 0 when it was already claimed (so the alert is sent once).
INSERT INTO accounting.budget_alerts (budget_id, period_start, threshold, spent_micro_usd)
VALUES (@budget_id, @period_start, @threshold, @spent_micro_usd)
ON CONFLICT (budget_id, period_start, threshold) DO NOTHING;
