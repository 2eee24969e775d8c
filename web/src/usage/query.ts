import type { BreakdownQuery, GroupBy } from '../api/client'
import { addDays, zonedMidnight } from './time'

/** What the usage explorer's form holds (empty strings mean "any"). */
export interface UsageFilters {
  from: string
  to: string
  timeZone: string
  groupBy: GroupBy
  tenantId: string
  keyId: string
  model: string
}

export const GROUP_BY_LABELS: Record<GroupBy, string> = {
  day: 'Day',
  tenant: 'Tenant',
  key: 'API key',
  model: 'Model',
  provider: 'Provider',
}

/** The problem with the filters, said plainly, or null when they can be sent. */
export function filtersProblem(filters: UsageFilters, today: string): string | null {
  if (!filters.from || !filters.to) return 'Choose both a start and an end day.'
  if (filters.from > filters.to) return 'The start day must not be after the end day.'
  if (filters.from > today) return 'The start day is in the future.'
  if (!filters.timeZone) return 'Choose a timezone.'
  return null
}

/** The breakdown request for the filters: [from, to] as whole days in the chosen timezone. */
export function breakdownQuery(filters: UsageFilters): BreakdownQuery {
  return {
    group_by: filters.groupBy,
    tenant_id: filters.tenantId || undefined,
    key_id: filters.keyId || undefined,
    model: filters.model || undefined,
    start: zonedMidnight(filters.from, filters.timeZone).toISOString(),
    end: zonedMidnight(addDays(filters.to, 1), filters.timeZone).toISOString(),
    timezone: filters.timeZone,
  }
}

/** Filters as a URL hash query (so a view can be bookmarked and shared), and back. */
export function filtersToSearch(filters: UsageFilters): string {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value)
  return params.toString()
}

export function filtersFromSearch(search: string, defaults: UsageFilters): UsageFilters {
  const params = new URLSearchParams(search)
  const groupBy = params.get('groupBy')
  return {
    from: params.get('from') ?? defaults.from,
    to: params.get('to') ?? defaults.to,
    timeZone: params.get('timeZone') ?? defaults.timeZone,
    groupBy: groupBy && groupBy in GROUP_BY_LABELS ? (groupBy as GroupBy) : defaults.groupBy,
    tenantId: params.get('tenantId') ?? defaults.tenantId,
    keyId: params.get('keyId') ?? defaults.keyId,
    model: params.get('model') ?? defaults.model,
  }
}
