import type { Budget } from '../api/client'
import { useApi } from '../api/context'
import { DataTable } from '../components/DataTable'
import { FormError } from '../components/Field'
import { AsyncView } from '../components/States'
import { TenantHeader, useTenantName } from '../components/TenantHeader'
import { useAsync } from '../components/useAsync'
import { useSubmit } from '../components/useSubmit'
import { formatDate, formatMicroUsd } from '../format'
import { AlertChannels } from './budgets/AlertChannels'
import { BudgetForm } from './budgets/BudgetForm'

function period(b: Budget): string {
  return b.period === 'rolling' ? `last ${b.rolling_days} days` : b.period
}

/** A tenant's budgets (on the tenant or its keys), its alert channels and the alerts sent. */
export function BudgetsPage({ tenantId }: { tenantId: string }) {
  const api = useApi()
  const tenantName = useTenantName(tenantId)
  const [keys] = useAsync(() => api.listApiKeys(tenantId), [api, tenantId])
  const [state, reload] = useAsync(() => api.listBudgets(tenantId), [api, tenantId])
  const [alerts, reloadAlerts] = useAsync(() => api.listBudgetAlerts(tenantId), [api, tenantId])
  const action = useSubmit()
  const keyNames = new Map(keys.status === 'ready' ? keys.data.items.map((k) => [k.id, k.name]) : [])
  const scope = (b: Budget) => (b.scope === 'tenant' ? 'Whole tenant' : `Key ${keyNames.get(b.scope_id) ?? b.scope_id.slice(0, 8)}`)
  const remove = async (b: Budget) =>
    window.confirm(`Delete the ${period(b)} budget of ${formatMicroUsd(b.limit_micro_usd)}?`) && (await action.run(() => api.deleteBudget(b.id))) && reload()

  return (
    <>
      <TenantHeader tenantId={tenantId} tenantName={tenantName} page="budgets" title={`Budgets of ${tenantName}`}>
        Spending limits in USD per period. A hard budget refuses requests once spent; every budget alerts at its thresholds.
      </TenantHeader>
      <BudgetForm tenantId={tenantId} keys={keys.status === 'ready' ? keys.data.items : []} onCreated={reload} />
      <FormError message={action.failure} />
      <AsyncView state={state} onRetry={reload}>
        {(list) => (
          <DataTable
            caption={`Budgets of ${tenantName}`}
            rows={list.items}
            rowKey={(b) => b.id}
            empty="No budgets: this tenant can spend without a limit."
            columns={[
              { header: 'Applies to', cell: scope },
              { header: 'Limit', cell: (b) => formatMicroUsd(b.limit_micro_usd), numeric: true },
              { header: 'Period', cell: period },
              { header: 'Timezone', cell: (b) => b.timezone },
              { header: 'Kind', cell: (b) => <span className={`badge badge-${b.hard ? 'suspended' : 'disabled'}`}>{b.hard ? 'hard' : 'soft'}</span> },
              { header: 'Alerts at', cell: (b) => (b.thresholds.length ? b.thresholds.map((t) => `${t}%`).join(', ') : 'never') },
              { header: 'Actions', cell: (b) => <button type="button" className="button small danger" onClick={() => remove(b)} aria-label={`Delete budget ${scope(b)} ${period(b)}`}>Delete</button> },
            ]}
          />
        )}
      </AsyncView>
      <AlertChannels tenantId={tenantId} />
      <h2 className="section-title">Recent alerts</h2>
      <AsyncView state={alerts} onRetry={reloadAlerts}>
        {(page) => (
          <DataTable
            caption="Recent budget alerts"
            rows={page.items}
            rowKey={(a) => String(a.id)}
            empty="No alert has fired for this tenant."
            columns={[
              { header: 'When', cell: (a) => formatDate(a.created_at) },
              { header: 'Threshold', cell: (a) => `${a.threshold_percent}%` },
              { header: 'Spent', cell: (a) => `${formatMicroUsd(a.spent_micro_usd)} of ${formatMicroUsd(a.limit_micro_usd)}` },
              { header: 'Channel', cell: (a) => a.channel_kind },
              { header: 'Delivery', cell: (a) => `${a.status}${a.last_error ? ` — ${a.last_error}` : ''}` },
            ]}
          />
        )}
      </AsyncView>
    </>
  )
}
