import { useState, type FormEvent } from 'react'
import { useApi } from '../api/context'
import type { Tenant } from '../api/client'
import { DataTable } from '../components/DataTable'
import { Field, FormError } from '../components/Field'
import { AsyncView } from '../components/States'
import { useAsync } from '../components/useAsync'
import { useSubmit } from '../components/useSubmit'
import { formatDate } from '../format'
import { ModelListForm } from './catalog/ModelListForm'
import { TenantLimitsEditor } from './tenants/TenantLimitsEditor'
import { limitSummary } from './keys/limits'


export function TenantForm({ onCreated }: { onCreated: (tenant: Tenant) => void }) {
  const api = useApi()
  const [name, setName] = useState('')
  const [error, setError] = useState<string>()
  const { busy, failure, run } = useSubmit()

  async function submit(event: FormEvent) {
    event.preventDefault()
    const trimmed = name.trim()
    const problem = !trimmed
      ? 'A tenant needs a name.'
      : trimmed.length > 200
        ? 'A tenant name has at most 200 characters.'
        : undefined
    setError(problem)
    if (problem) return
    await run(async () => {
      const tenant = await api.createTenant(trimmed)
      setName('')
      onCreated(tenant)
    })
  }

  return (
    <form className="card form-inline" onSubmit={submit} noValidate aria-label="Create a tenant">
      <Field label="New tenant name" value={name} onChange={(e) => setName(e.target.value)} error={error}
        placeholder="acme-research" />
      <button className="button primary" type="submit" disabled={busy}>
        {busy ? 'Creating…' : 'Create tenant'}
      </button>
      <FormError message={failure} />
    </form>
  )
}

/** Which models a tenant's keys may use (the tenant's limit on top of each key's own list). */
function TenantModelsEditor({ tenant, onDone }: { tenant: Tenant; onDone: (saved: boolean) => void }) {
  const api = useApi()
  const [models, reload] = useAsync(() => api.listModels(), [api])
  return (
    <AsyncView state={models} onRetry={reload}>
      {(list) => (
        <ModelListForm title={`Models ${tenant.name} may use`} label="Allowed models" initial={tenant.allowed_models}
          known={list.items.map((m) => m.name)} saveLabel="Save models" onCancel={() => onDone(false)}
          save={async (chosen) => { await api.updateTenant(tenant.id, { allowed_models: chosen }); onDone(true) }} />
      )}
    </AsyncView>
  )
}

export function TenantsPage() {
  const api = useApi()
  const [state, reload] = useAsync(() => api.listTenants({ limit: 200 }), [api])
  const [editing, setEditing] = useState<Tenant | null>(null)
  const [limiting, setLimiting] = useState<Tenant | null>(null)
  const action = useSubmit()
  const toggle = async (tenant: Tenant) =>
    (await action.run(() => api.setTenantStatus(tenant.id, tenant.status === 'suspended' ? 'active' : 'suspended'))) && reload()

  return (
    <>
      <header className="page-header">
        <h1>Tenants</h1>
        <p>Organisations that own API keys. Suspending a tenant stops all its keys at once.</p>
      </header>
      <TenantForm onCreated={reload} />
      <FormError message={action.failure} />
      <AsyncView state={state} onRetry={reload}>
        {(page) => (
          <>
          {editing && <TenantModelsEditor key={editing.id} tenant={editing} onDone={(saved) => { setEditing(null); if (saved) reload() }} />}
          {limiting && <TenantLimitsEditor key={limiting.id} tenant={limiting} onDone={(saved) => { setLimiting(null); if (saved) reload() }} />}
          <DataTable
            caption="Tenants"
            rows={page.items}
            rowKey={(t) => t.id}
            empty="No tenants yet. Create the first one above."
            columns={[
              { header: 'Name', cell: (t) => <a href={`#/tenants/${t.id}/keys`}>{t.name}</a> },
              {
                header: 'Status',
                cell: (t) => <span className={`badge badge-${t.status}`}>{t.status}</span>,
              },
              { header: 'Models', cell: (t) => (t.allowed_models.length ? t.allowed_models.join(', ') : 'all') },
              { header: 'Limits', cell: (t) => limitSummary(t) },
              { header: 'Created', cell: (t) => formatDate(t.created_at) },
              {
                header: 'Actions',
                cell: (t) => (
                  <div className="actions">
                    <a className="button small secondary" href={`#/tenants/${t.id}/keys`}>
                      API keys
                    </a>
                    <a className="button small secondary" href={`#/tenants/${t.id}/members`} aria-label={`Members of ${t.name}`}>
                      Members
                    </a>
                    <a className="button small secondary" href={`#/tenants/${t.id}/budgets`} aria-label={`Budgets of ${t.name}`}>
                      Budgets
                    </a>
                    <button type="button" className="button small secondary" onClick={() => setEditing(t)} aria-label={`Edit models of ${t.name}`}>
                      Models
                    </button>
                    <button type="button" className="button small secondary" onClick={() => setLimiting(t)} aria-label={`Edit limits of ${t.name}`}>
                      Limits
                    </button>
                    <button type="button" className={`button small ${t.status === 'suspended' ? 'secondary' : 'danger'}`}
                      onClick={() => toggle(t)} aria-label={`${t.status === 'suspended' ? 'Reactivate' : 'Suspend'} ${t.name}`}>
                      {t.status === 'suspended' ? 'Reactivate' : 'Suspend'}
                    </button>
                  </div>
                ),
              },
            ]}
          />
          </>
        )}
      </AsyncView>
    </>
  )
}
