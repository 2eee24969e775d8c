import type { BudgetCreate } from '../../api/client'
import { usdToMicro } from '../../format'

export type Period = BudgetCreate['period']

export const PERIODS: { value: Period; label: string }[] = [
  { value: 'daily', label: 'Daily' },
  { value: 'weekly', label: 'Weekly (ISO week)' },
  { value: 'monthly', label: 'Monthly' },
  { value: 'rolling', label: 'Rolling days' },
]

/** The budget form as typed. */
export interface BudgetDraft {
  keyId: string
  limitUsd: string
  period: Period
  rollingDays: string
  timeZone: string
  hard: boolean
  thresholds: string
}

/** "50, 80, 100" -> [50, 80, 100] (sorted, unique), or null when a part is not 1..1000. */
export function parseThresholds(text: string): number[] | null {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean)
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 1000) || parts.length > 20) return null
  return [...new Set(parts.map(Number))].sort((a, b) => a - b)
}

/** The create request for a draft, or the problems by field. */
export function budgetRequest(draft: BudgetDraft): { body: BudgetCreate } | { errors: Partial<Record<keyof BudgetDraft, string>> } {
  const errors: Partial<Record<keyof BudgetDraft, string>> = {}
  const limit = usdToMicro(draft.limitUsd)
  if (limit === null) errors.limitUsd = 'Enter the limit in USD, e.g. 250 or 12.50.'
  const thresholds = parseThresholds(draft.thresholds)
  if (thresholds === null) errors.thresholds = 'Percentages of the limit from 1 to 1000, comma-separated, e.g. 50, 80, 100.'
  let rollingDays: number | null = null
  if (draft.period === 'rolling') {
    rollingDays = /^\d+$/.test(draft.rollingDays.trim()) ? Number(draft.rollingDays) : NaN
    if (!(rollingDays >= 1 && rollingDays <= 366)) errors.rollingDays = 'A rolling budget counts 1 to 366 days.'
  }
  if (Object.keys(errors).length || limit === null || thresholds === null) return { errors }
  return {
    body: {
      limit_micro_usd: limit,
      period: draft.period,
      scope: draft.keyId ? 'key' : 'tenant',
      key_id: draft.keyId || null,
      rolling_days: rollingDays,
      timezone: draft.timeZone,
      hard: draft.hard,
      thresholds,
    },
  }
}
