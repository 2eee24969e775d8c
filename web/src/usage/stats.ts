import type { UsageGroup, UsageSummary } from '../api/client'

export const EMPTY_TOTALS: UsageSummary = { requests: 0, prompt_tokens: 0, completion_tokens: 0, cost_micro_usd: 0, errors: 0 }

/** The sum of a breakdown's groups (every request is in exactly one group). */
export function sumGroups(groups: UsageGroup[]): UsageSummary {
  return groups.reduce(
    (sum, { usage }) => ({
      requests: sum.requests + usage.requests,
      prompt_tokens: sum.prompt_tokens + usage.prompt_tokens,
      completion_tokens: sum.completion_tokens + usage.completion_tokens,
      cost_micro_usd: sum.cost_micro_usd + usage.cost_micro_usd,
      errors: sum.errors + usage.errors,
    }),
    EMPTY_TOTALS,
  )
}

/** Errors as a share of requests (0 when there were none). */
export function errorRate(totals: UsageSummary): number {
  return totals.requests ? totals.errors / totals.requests : 0
}

/** The nearest-rank percentile of `values` (p in 0..100), or null for no values. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[Math.min(rank, sorted.length) - 1]
}

/** The `n` largest groups by spend, then by requests. */
export function topGroups(groups: UsageGroup[], n: number): UsageGroup[] {
  return [...groups]
    .sort((a, b) => b.usage.cost_micro_usd - a.usage.cost_micro_usd || b.usage.requests - a.usage.requests)
    .slice(0, n)
}

/** Day groups with the days that had no traffic filled in as zeros, in order. */
export function fillDays(groups: UsageGroup[], days: string[]): UsageGroup[] {
  const byDay = new Map(groups.map((g) => [g.key, g]))
  return days.map((day) => byDay.get(day) ?? { key: day, usage: EMPTY_TOTALS })
}
