import type { ApiClient, GroupBy } from '../api/client'

/**
 * Readable names for breakdown keys: tenant and key ids become their names (looked up once
 * each, at most `limit` keys), model, provider and day keys are already readable.
 */
export async function groupLabels(api: ApiClient, groupBy: GroupBy, keys: string[], limit = 100): Promise<Map<string, string>> {
  const labels = new Map<string, string>()
  if (groupBy === 'tenant') {
    const tenants = await api.listTenants({ limit: 500 })
    for (const tenant of tenants.items) labels.set(tenant.id, tenant.name)
  } else if (groupBy === 'key') {
    const found = await Promise.allSettled(keys.slice(0, limit).map((id) => api.getApiKey(id)))
    for (const result of found) if (result.status === 'fulfilled') labels.set(result.value.id, result.value.name)
  }
  return labels
}

/** The label of a key, falling back to a short id for unknown (deleted or hidden) ones. */
export function labelOf(labels: Map<string, string>, key: string): string {
  return labels.get(key) ?? (/^[0-9a-f-]{36}$/.test(key) ? `${key.slice(0, 8)}…` : key || '(none)')
}
