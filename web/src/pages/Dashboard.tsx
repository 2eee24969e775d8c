import { useState } from 'react'
import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import type { ApiClient, GroupBy, UsageGroup } from '../api/client'
import { useApi } from '../api/context'
import { DataTable } from '../components/DataTable'
import { SelectField } from '../components/Field'
import { AsyncView, Empty } from '../components/States'
import { Stat } from '../components/Stat'
import { useAsync } from '../components/useAsync'
import { formatMicroUsd, formatNumber } from '../format'
import { groupLabels, labelOf } from '../usage/labels'
import { breakdownQuery } from '../usage/query'
import { errorRate, fillDays, percentile, sumGroups, topGroups } from '../usage/stats'
import { addDays, browserTimeZone, dayIn, daysBetween } from '../usage/time'

const RANGES = [
  { value: '1', label: 'Today' },
  { value: '7', label: 'Last 7 days' },
  { value: '30', label: 'Last 30 days' },
]
const TOP = 5
// Latency percentiles come from the newest requests of the range (the request log, one page).
const LATENCY_SAMPLE = 500

interface Top {
  groups: UsageGroup[]
  labels: Map<string, string>
}

interface Dashboard {
  days: UsageGroup[]
  top: Record<'tenant' | 'key' | 'model', Top>
  latencies: number[]
}

async function loadDashboard(api: ApiClient, rangeDays: number, timeZone: string): Promise<Dashboard> {
  const to = dayIn(new Date(), timeZone)
  const from = addDays(to, 1 - rangeDays)
  const filters = { from, to, timeZone, tenantId: '', keyId: '', model: '' }
  const breakdown = (groupBy: GroupBy) => api.usageBreakdown(breakdownQuery({ ...filters, groupBy }))
  const top = async (groupBy: 'tenant' | 'key' | 'model'): Promise<Top> => {
    const groups = topGroups((await breakdown(groupBy)).groups, TOP)
    return { groups, labels: await groupLabels(api, groupBy, groups.map((g) => g.key)) }
  }
  const window = breakdownQuery({ ...filters, groupBy: 'day' })
  const [days, tenant, key, model, requests] = await Promise.all([
    breakdown('day'),
    top('tenant'),
    top('key'),
    top('model'),
    api.listUsageRequests({ start: window.start, end: window.end, limit: LATENCY_SAMPLE }),
  ])
  return {
    days: fillDays(days.groups, daysBetween(from, to)),
    top: { tenant, key, model },
    latencies: requests.items.map((r) => r.latency_ms),
  }
}

function formatMs(value: number | null): string {
  if (value === null) return '—'
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${formatNumber(value)} ms`
}

function TopTable({ title, top }: { title: string; top: Top }) {
  return (
    <section className="card top" aria-labelledby={`top-${title}`}>
      <h2 id={`top-${title}`}>Top {title}</h2>
      <DataTable
        caption={`Top ${title} by spend`}
        rows={top.groups}
        rowKey={(g) => g.key}
        empty={`No ${title} with traffic in this range.`}
        columns={[
          { header: 'Name', cell: (g) => labelOf(top.labels, g.key) },
          { header: 'Requests', cell: (g) => formatNumber(g.usage.requests), numeric: true },
          { header: 'Spend', cell: (g) => formatMicroUsd(g.usage.cost_micro_usd), numeric: true },
        ]}
      />
    </section>
  )
}

export function DashboardPage() {
  const api = useApi()
  const timeZone = browserTimeZone()
  const [range, setRange] = useState('7')
  const [state, reload] = useAsync(() => loadDashboard(api, Number(range), timeZone), [api, range, timeZone])

  return (
    <>
      <header className="page-header page-header-row">
        <div>
          <h1>Dashboard</h1>
          <p>Spend, traffic, errors and latency across every tenant, by day in your timezone ({timeZone}).</p>
        </div>
        <SelectField label="Range" value={range} onChange={setRange} options={RANGES} />
      </header>
      <AsyncView state={state} onRetry={reload}>
        {({ days, top, latencies }) => {
          const totals = sumGroups(days)
          const chart = days.map((d) => ({ day: d.key.slice(5), requests: d.usage.requests, spend: d.usage.cost_micro_usd / 1_000_000 }))
          const sample = latencies.length === 1 ? 'over the latest request' : `over the latest ${formatNumber(latencies.length)} requests`
          return (
            <>
              <section className="stats" aria-label="Summary">
                <Stat label="Spend" value={formatMicroUsd(totals.cost_micro_usd)} />
                <Stat label="Requests" value={formatNumber(totals.requests)} />
                <Stat label="Tokens" value={formatNumber(totals.prompt_tokens + totals.completion_tokens)}
                  note={`${formatNumber(totals.prompt_tokens)} in · ${formatNumber(totals.completion_tokens)} out`} />
                <Stat label="Error rate" value={`${(errorRate(totals) * 100).toFixed(1)} %`} note={`${formatNumber(totals.errors)} failed`} />
                <Stat label="Latency p50" value={formatMs(percentile(latencies, 50))} note={latencies.length ? sample : 'no requests yet'} />
                <Stat label="Latency p99" value={formatMs(percentile(latencies, 99))} note={latencies.length ? sample : 'no requests yet'} />
              </section>
              {totals.requests === 0 ? (
                <Empty>No requests in this range yet. Traffic through the proxy shows up here within seconds.</Empty>
              ) : (
                <section className="card chart" aria-label="Requests and spend per day">
                  <h2>Requests and spend per day</h2>
                  <ResponsiveContainer width="100%" height={260}>
                    <ComposedChart data={chart} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
                      <CartesianGrid strokeDasharray="3 3" vertical={false} />
                      <XAxis dataKey="day" tickLine={false} />
                      <YAxis yAxisId="requests" allowDecimals={false} tickLine={false} width={48} />
                      <YAxis yAxisId="spend" orientation="right" tickLine={false} width={88} tickFormatter={(v: number) => formatMicroUsd(Math.round(v * 1_000_000))} />
                      <Tooltip />
                      <Legend />
                      <Bar yAxisId="requests" dataKey="requests" name="Requests" fill="#4f46e5" radius={[4, 4, 0, 0]} maxBarSize={64} isAnimationActive={false} />
                      <Line yAxisId="spend" dataKey="spend" name="Spend (USD)" stroke="#f59e0b" strokeWidth={2} dot={false} isAnimationActive={false} />
                    </ComposedChart>
                  </ResponsiveContainer>
                </section>
              )}
              <div className="top-grid">
                <TopTable title="tenants" top={top.tenant} />
                <TopTable title="keys" top={top.key} />
                <TopTable title="models" top={top.model} />
              </div>
            </>
          )
        }}
      </AsyncView>
    </>
  )
}
