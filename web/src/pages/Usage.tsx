import { useState, type FormEvent } from 'react'
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis, ResponsiveContainer } from 'recharts'
import { useApi } from '../api/context'
import type { ApiClient, UsageSummary } from '../api/client'
import { Field, FormError, SelectField } from '../components/Field'
import { AsyncView, Empty } from '../components/States'
import { useAsync } from '../components/useAsync'
import { formatMicroUsd, formatNumber } from '../format'

const MAX_CHART_DAYS = 31
const DAY_MS = 86_400_000

function isoDay(date: Date): string {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000)
  return local.toISOString().slice(0, 10)
}

/** Local midnight of a yyyy-mm-dd day (the browser's timezone). */
function localMidnight(day: string): Date {
  const [y, m, d] = day.split('-').map(Number)
  return new Date(y, m - 1, d)
}

function addDays(date: Date, days: number): Date {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate() + days)
}

interface DayPoint {
  day: string
  requests: number
  cost: number
}

interface UsageReport {
  total: UsageSummary
  days: DayPoint[] | null
}

/** Totals over [from, to] plus, for short ranges, one summary per day for the chart. */
async function loadUsage(api: ApiClient, from: string, to: string, timezone: string, tenantId: string): Promise<UsageReport> {
  const scope = tenantId ? { tenant_id: tenantId } : {}
  const start = localMidnight(from)
  const end = addDays(localMidnight(to), 1)
  const total = await api.usageSummary({ ...scope, start: start.toISOString(), end: end.toISOString(), timezone })
  const dayCount = Math.round((end.getTime() - start.getTime()) / DAY_MS)
  if (dayCount > MAX_CHART_DAYS) return { total, days: null }
  const days = await Promise.all(
    Array.from({ length: dayCount }, async (_, index) => {
      const dayStart = addDays(start, index)
      const summary = await api.usageSummary({
        ...scope,
        start: dayStart.toISOString(),
        end: addDays(dayStart, 1).toISOString(),
        timezone,
      })
      return { day: isoDay(dayStart).slice(5), requests: summary.requests, cost: summary.cost_micro_usd / 1_000_000 }
    }),
  )
  return { total, days }
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="stat card">
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
    </div>
  )
}

export function UsagePage() {
  const api = useApi()
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone
  const today = isoDay(new Date())
  const [draft, setDraft] = useState({ from: isoDay(addDays(new Date(), -6)), to: today, tenant: '' })
  const [range, setRange] = useState(draft)
  const [error, setError] = useState<string | null>(null)
  const [state, reload] = useAsync(
    () => loadUsage(api, range.from, range.to, timezone, range.tenant),
    [api, range.from, range.to, range.tenant, timezone],
  )
  const [tenants] = useAsync(() => api.listTenants({ limit: 500 }), [api])
  const tenantOptions = [
    { value: '', label: 'All tenants' },
    ...(tenants.status === 'ready' ? tenants.data.items.map((t) => ({ value: t.id, label: t.name })) : []),
  ]

  function apply(event: FormEvent) {
    event.preventDefault()
    if (!draft.from || !draft.to) return setError('Choose both a start and an end day.')
    if (draft.from > draft.to) return setError('The start day must not be after the end day.')
    setError(null)
    setRange({ ...draft })
  }

  return (
    <>
      <header className="page-header">
        <h1>Usage</h1>
        <p>Requests, tokens and spend, for every tenant or one, by day in your timezone ({timezone}).</p>
      </header>
      <form className="card form-inline" onSubmit={apply} noValidate aria-label="Date range">
        <Field label="From" type="date" value={draft.from} max={today} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        <Field label="To" type="date" value={draft.to} max={today} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        <SelectField label="Tenant" value={draft.tenant} onChange={(tenant) => setDraft({ ...draft, tenant })} options={tenantOptions} />
        <button className="button primary" type="submit">Show</button>
        <FormError message={error} />
      </form>
      <AsyncView state={state} onRetry={reload}>
        {({ total, days }) => (
          <>
            <section className="stats" aria-label="Totals">
              <Stat label="Requests" value={formatNumber(total.requests)} />
              <Stat label="Prompt tokens" value={formatNumber(total.prompt_tokens)} />
              <Stat label="Completion tokens" value={formatNumber(total.completion_tokens)} />
              <Stat label="Spend" value={formatMicroUsd(total.cost_micro_usd)} />
              <Stat label="Errors" value={formatNumber(total.errors)} />
            </section>
            {days === null ? (
              <Empty>The daily chart covers up to {MAX_CHART_DAYS} days; narrow the range to see it.</Empty>
            ) : total.requests === 0 ? (
              <Empty>No requests in this range yet.</Empty>
            ) : (
              <section className="card chart" aria-label="Requests per day">
                <h2>Requests per day</h2>
                <ResponsiveContainer width="100%" height={260}>
                  <BarChart data={days} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
                    <CartesianGrid strokeDasharray="3 3" vertical={false} />
                    <XAxis dataKey="day" tickLine={false} />
                    <YAxis allowDecimals={false} tickLine={false} width={48} />
                    <Tooltip />
                    <Bar dataKey="requests" name="Requests" fill="#4f46e5" radius={[4, 4, 0, 0]} isAnimationActive={false} />
                  </BarChart>
                </ResponsiveContainer>
              </section>
            )}
          </>
        )}
      </AsyncView>
    </>
  )
}
