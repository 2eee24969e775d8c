import { useMemo, useState, type FormEvent } from 'react'
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import type { ApiClient } from '../api/client'
import { useApi } from '../api/context'
import { DataTable } from '../components/DataTable'
import { FormError, Field, SelectField } from '../components/Field'
import { AsyncView, Empty } from '../components/States'
import { Stat } from '../components/Stat'
import { useAsync } from '../components/useAsync'
import { formatMicroUsd, formatNumber } from '../format'
import { downloadText, usageCsv } from '../usage/csv'
import { groupLabels, labelOf } from '../usage/labels'
import { breakdownQuery, filtersFromSearch, filtersProblem, filtersToSearch, GROUP_BY_LABELS, type UsageFilters } from '../usage/query'
import { fillDays, sumGroups } from '../usage/stats'
import { addDays, browserTimeZone, dayIn, daysBetween, timeZoneChoices } from '../usage/time'

async function loadBreakdown(api: ApiClient, filters: UsageFilters) {
  const breakdown = await api.usageBreakdown(breakdownQuery(filters))
  const groups = filters.groupBy === 'day' ? fillDays(breakdown.groups, daysBetween(filters.from, filters.to)) : breakdown.groups
  const labels = await groupLabels(api, filters.groupBy, groups.map((g) => g.key))
  return { groups, labels }
}

function defaults(): UsageFilters {
  const timeZone = browserTimeZone()
  const today = dayIn(new Date(), timeZone)
  return { from: addDays(today, -6), to: today, timeZone, groupBy: 'day', tenantId: '', keyId: '', model: '' }
}

function searchOfHash(): string {
  return window.location.hash.split('?')[1] ?? ''
}

export function UsageExplorerPage() {
  const api = useApi()
  const initial = useMemo(() => filtersFromSearch(searchOfHash(), defaults()), [])
  const [draft, setDraft] = useState(initial)
  const [filters, setFilters] = useState(initial)
  const [problem, setProblem] = useState<string | null>(null)
  const [state, reload] = useAsync(() => loadBreakdown(api, filters), [api, filters])
  const [tenants] = useAsync(() => api.listTenants({ limit: 500 }), [api])
  const [models] = useAsync(() => api.listModels(), [api])
  const [keys] = useAsync(
    () => (draft.tenantId ? api.listApiKeys(draft.tenantId) : Promise.resolve({ items: [] })),
    [api, draft.tenantId],
  )
  const zones = useMemo(timeZoneChoices, [])
  const set = <K extends keyof UsageFilters>(field: K) => (value: UsageFilters[K]) => setDraft((d) => ({ ...d, [field]: value }))

  function apply(event: FormEvent) {
    event.preventDefault()
    const found = filtersProblem(draft, dayIn(new Date(), draft.timeZone || 'UTC'))
    setProblem(found)
    if (found) return
    // The filters live in the URL too, so a view can be bookmarked; replaceState fires no hashchange.
    window.history.replaceState(null, '', `#/usage?${filtersToSearch(draft)}`)
    setFilters({ ...draft })
  }

  const option = (value: string, label: string) => ({ value, label })
  return (
    <>
      <header className="page-header">
        <h1>Usage explorer</h1>
        <p>Requests, tokens, errors and spend grouped the way you need, with days cut in the timezone you choose.</p>
      </header>
      <form className="card form-grid" onSubmit={apply} noValidate aria-label="Usage filters">
        <Field label="From" type="date" value={draft.from} onChange={(e) => set('from')(e.target.value)} />
        <Field label="To" type="date" value={draft.to} onChange={(e) => set('to')(e.target.value)} />
        <SelectField label="Timezone" value={draft.timeZone} onChange={set('timeZone')} options={zones.map((z) => option(z, z))} />
        <SelectField label="Group by" value={draft.groupBy} onChange={set('groupBy')}
          options={Object.entries(GROUP_BY_LABELS).map(([value, label]) => option(value, label))} />
        <SelectField label="Tenant" value={draft.tenantId}
          onChange={(tenantId) => setDraft((d) => ({ ...d, tenantId, keyId: '' }))}
          options={[option('', 'All tenants'), ...(tenants.status === 'ready' ? tenants.data.items.map((t) => option(t.id, t.name)) : [])]} />
        <SelectField label="API key" value={draft.keyId} onChange={set('keyId')}
          options={[
            option('', draft.tenantId ? 'All keys of the tenant' : 'All keys (choose a tenant to pick one)'),
            ...(keys.status === 'ready' ? keys.data.items.map((k) => option(k.id, `${k.name} (${k.prefix}…${k.last4})`)) : []),
          ]} />
        <SelectField label="Model" value={draft.model} onChange={set('model')}
          options={[option('', 'All models'), ...(models.status === 'ready' ? models.data.items.map((m) => option(m.name, m.name)) : [])]} />
        <div className="form-actions">
          <button className="button primary" type="submit">Show</button>
          <FormError message={problem} />
          <span className="hint">Group by provider to compare providers; filtering by user or provider is not offered by the usage API yet.</span>
        </div>
      </form>
      <AsyncView state={state} onRetry={reload}>
        {({ groups, labels }) => {
          const totals = sumGroups(groups)
          const by = GROUP_BY_LABELS[filters.groupBy]
          const chart = groups.map((g) => ({ name: filters.groupBy === 'day' ? g.key.slice(5) : labelOf(labels, g.key), requests: g.usage.requests }))
          const download = () =>
            downloadText(`usage-by-${filters.groupBy}-${filters.from}-to-${filters.to}.csv`, usageCsv(filters.groupBy, groups, (k) => labelOf(labels, k)))
          return (
            <>
              <section className="stats" aria-label="Totals">
                <Stat label="Requests" value={formatNumber(totals.requests)} />
                <Stat label="Prompt tokens" value={formatNumber(totals.prompt_tokens)} />
                <Stat label="Completion tokens" value={formatNumber(totals.completion_tokens)} />
                <Stat label="Spend" value={formatMicroUsd(totals.cost_micro_usd)} />
                <Stat label="Errors" value={formatNumber(totals.errors)} />
              </section>
              {totals.requests === 0 ? (
                <Empty>No requests match these filters.</Empty>
              ) : (
                <>
                  <section className="card chart" aria-label={`Requests by ${by.toLowerCase()}`}>
                    <h2>Requests by {by.toLowerCase()}</h2>
                    <ResponsiveContainer width="100%" height={240}>
                      <BarChart data={chart} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
                        <CartesianGrid strokeDasharray="3 3" vertical={false} />
                        <XAxis dataKey="name" tickLine={false} />
                        <YAxis allowDecimals={false} tickLine={false} width={48} />
                        <Tooltip />
                        <Bar dataKey="requests" name="Requests" fill="#4f46e5" radius={[4, 4, 0, 0]} maxBarSize={64} isAnimationActive={false} />
                      </BarChart>
                    </ResponsiveContainer>
                  </section>
                  <div className="table-toolbar">
                    <button type="button" className="button secondary" onClick={download}>Download CSV</button>
                  </div>
                  <DataTable
                    caption={`Usage by ${by.toLowerCase()}`}
                    rows={groups}
                    rowKey={(g) => g.key}
                    empty="No groups."
                    columns={[
                      { header: by, cell: (g) => labelOf(labels, g.key) },
                      { header: 'Requests', cell: (g) => formatNumber(g.usage.requests), numeric: true },
                      { header: 'Prompt tokens', cell: (g) => formatNumber(g.usage.prompt_tokens), numeric: true },
                      { header: 'Completion tokens', cell: (g) => formatNumber(g.usage.completion_tokens), numeric: true },
                      { header: 'Errors', cell: (g) => formatNumber(g.usage.errors), numeric: true },
                      { header: 'Spend', cell: (g) => formatMicroUsd(g.usage.cost_micro_usd), numeric: true },
                    ]}
                  />
                </>
              )}
            </>
          )
        }}
      </AsyncView>
    </>
  )
}
