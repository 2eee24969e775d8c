-- The alert history becomes queryable by tenant (AccountingService.ListAlerts): each delivery
-- records the tenant whose budget fired (the key's tenant for a key budget), and pages are read
-- newest first by id.

ALTER TABLE accounting.alert_deliveries ADD COLUMN tenant_id uuid;

-- Rows written before this column: a tenant budget's tenant is its scope; a key budget's tenant
-- is the one the key's usage was recorded under (NULL if the key never had any).
UPDATE accounting.alert_deliveries SET tenant_id = scope_id WHERE scope = 'tenant';
UPDATE accounting.alert_deliveries AS d
SET tenant_id = (SELECT u.tenant_id FROM accounting.usage AS u WHERE u.key_id = d.scope_id LIMIT 1)
WHERE d.scope = 'key';

CREATE INDEX alert_deliveries_tenant_id_idx ON accounting.alert_deliveries (tenant_id, id DESC);
CREATE INDEX alert_deliveries_budget_id_idx ON accounting.alert_deliveries (budget_id, id DESC);
-- Replaced by the index above: the history is paged by id, not by created_at.
DROP INDEX accounting.alert_deliveries_budget_idx;
