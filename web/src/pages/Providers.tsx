import { useState, type FormEvent } from 'react'
import { useApi } from '../api/context'
import { DataTable } from '../components/DataTable'
import { Field, FormError } from '../components/Field'
import { AsyncView } from '../components/States'
import { useAsync } from '../components/useAsync'
import { formatDate } from '../format'
import type { Provider } from '../api/client'
import { ProviderEditor } from './catalog/ProviderEditor'

export function ProviderForm({ onCreated }: { onCreated: () => void }) {
  const api = useApi()
  const [form, setForm] = useState({ name: '', type: 'openai', base_url: '', api_key: '' })
  const [errors, setErrors] = useState<Record<string, string | undefined>>({})
  const [failure, setFailure] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const set = (field: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [field]: e.target.value })

  async function submit(event: FormEvent) {
    event.preventDefault()
    const found: Record<string, string | undefined> = {}
    if (!form.name.trim()) found.name = 'A provider needs a name.'
    if (!/^[a-z][a-z0-9_]*$/.test(form.type.trim())) found.type = 'The adapter type is lower-case, e.g. openai.'
    if (form.base_url.trim() && !/^https?:\/\/\S+$/.test(form.base_url.trim())) found.base_url = 'The base URL starts with http:// or https://.'
    setErrors(found)
    if (Object.values(found).some(Boolean)) return
    setBusy(true)
    setFailure(null)
    try {
      await api.createProvider({
        name: form.name.trim(),
        type: form.type.trim(),
        base_url: form.base_url.trim() || null,
        credentials: form.api_key ? { api_key: form.api_key } : null,
      })
      setForm({ name: '', type: 'openai', base_url: '', api_key: '' })
      onCreated()
    } catch (err) {
      setFailure(err instanceof Error ? err.message : String(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="card form-grid" onSubmit={submit} noValidate aria-label="Add a provider">
      <Field label="Provider name" value={form.name} onChange={set('name')} error={errors.name} placeholder="openai-main" />
      <Field label="Adapter type" value={form.type} onChange={set('type')} error={errors.type} />
      <Field label="Base URL" value={form.base_url} onChange={set('base_url')} error={errors.base_url} placeholder="https://api.openai.com/v1" />
      <Field label="API key" type="password" autoComplete="off" value={form.api_key} onChange={set('api_key')}
        hint="Write-only: stored encrypted and never shown again." />
      <div className="form-actions">
        <button className="button primary" type="submit" disabled={busy}>{busy ? 'Adding…' : 'Add provider'}</button>
        <FormError message={failure} />
      </div>
    </form>
  )
}

export function ProvidersPage() {
  const api = useApi()
  const [state, reload] = useAsync(() => api.listProviders(), [api])
  const [editing, setEditing] = useState<Provider | null>(null)
  return (
    <>
      <header className="page-header">
        <h1>Providers</h1>
        <p>Upstream accounts the proxy calls. Credentials can be replaced but never read back.</p>
      </header>
      {editing ? (
        <ProviderEditor key={editing.id} provider={editing} onCancel={() => setEditing(null)} onSaved={() => { setEditing(null); reload() }} />
      ) : (
        <ProviderForm onCreated={reload} />
      )}
      <AsyncView state={state} onRetry={reload}>
        {(list) => (
          <DataTable
            caption="Providers"
            rows={list.items}
            rowKey={(p) => p.id}
            empty="No providers yet. Add the first upstream above."
            columns={[
              { header: 'Name', cell: (p) => p.name },
              { header: 'Type', cell: (p) => <code>{p.type}</code> },
              { header: 'Base URL', cell: (p) => p.base_url ?? 'default' },
              { header: 'Credentials', cell: (p) => (p.has_credentials ? 'stored' : 'none') },
              { header: 'Status', cell: (p) => <span className={`badge badge-${p.enabled ? 'active' : 'disabled'}`}>{p.enabled ? 'enabled' : 'disabled'}</span> },
              { header: 'Settings', cell: (p) => (Object.keys(p.settings).length ? Object.keys(p.settings).join(', ') : '—') },
              { header: 'Created', cell: (p) => formatDate(p.created_at) },
              {
                header: 'Actions',
                cell: (p) => (
                  <button type="button" className="button small secondary" onClick={() => setEditing(p)} aria-label={`Edit ${p.name}`}>Edit</button>
                ),
              },
            ]}
          />
        )}
      </AsyncView>
    </>
  )
}
