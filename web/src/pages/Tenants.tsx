import { useState, type FormEvent } from 'react'
import { useApi } from '../api/context'
import type { Tenant } from '../api/client'
import { DataTable } from '../components/DataTable'
import { Field, FormError } from '../components/Field'
import { AsyncView } from '../components/States'
import { useAsync } from '../components/useAsync'
import { formatDate } from '../format'


export function TenantForm({ onCreated }: { onCreated: (tenant: Tenant) => void }) {
  const api = useApi()
  const [name, setName] = useState('')
  const [error, setError] = useState<string>()
  const [failure, setFailure] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

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
    setBusy(true)
    setFailure(null)
    try {
      const tenant = await api.createTenant(trimmed)
      setName('')
      onCreated(tenant)
    } catch (err) {
      setFailure(err instanceof Error ? err.message : String(err))
    } finally {
      setBusy(false)
    }
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

export function TenantsPage() {
  const api = useApi()
  const [state, reload] = useAsync(() => api.listTenants({ limit: 200 }), [api])
  const [actionError, setActionError] = useState<string | null>(null)

  async function toggle(tenant: Tenant) {
    setActionError(null)
    try {
      await api.setTenantStatus(tenant.id, tenant.status === 'suspended' ? 'active' : 'suspended')
      reload()
    } catch (err) {
      setActionError(err instanceof Error ? err.message : String(err))
    }
  }

  return (
    <>
      <header className="page-header">
        <h1>Tenants</h1>
        <p>Organisations that own API keys. Suspending a tenant stops all its keys at once.</p>
      </header>
      <TenantForm onCreated={reload} />
      <FormError message={actionError} />
      <AsyncView state={state} onRetry={reload}>
        {(page) => (
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
              { header: 'Created', cell: (t) => formatDate(t.created_at) },
              {
                header: 'Actions',
                cell: (t) => (
                  <div className="actions">
                    <a className="button small secondary" href={`#/tenants/${t.id}/keys`}>
                      API keys
                    </a>
                    <button type="button" className={`button small ${t.status === 'suspended' ? 'secondary' : 'danger'}`}
                      onClick={() => toggle(t)} aria-label={`${t.status === 'suspended' ? 'Reactivate' : 'Suspend'} ${t.name}`}>
                      {t.status === 'suspended' ? 'Reactivate' : 'Suspend'}
                    </button>
                  </div>
                ),
              },
            ]}
          />
        )}
      </AsyncView>
    </>
  )
}
