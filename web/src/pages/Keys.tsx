import { useState, type FormEvent } from 'react'
import { useApi } from '../api/context'
import type { ApiKey, CreatedApiKey } from '../api/client'
import { DataTable } from '../components/DataTable'
import { Field, FormError } from '../components/Field'
import { AsyncView } from '../components/States'
import { useAsync } from '../components/useAsync'
import { formatDate } from '../format'

function keyStatus(key: ApiKey): string {
  if (key.revoked_at) return 'revoked'
  if (key.disabled) return 'disabled'
  if (key.expires_at && new Date(key.expires_at) < new Date()) return 'expired'
  return 'active'
}

function optionalLimit(text: string, label: string): [number | null, string | undefined] {
  if (!text.trim()) return [null, undefined]
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) return [null, `${label} must be a whole number above 0.`]
  return [Number(text), undefined]
}

/** The secret, shown once, with a copy button. */
export function KeyReveal({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no')
  async function copy() {
    try {
      await navigator.clipboard.writeText(created.key)
      setCopied('yes')
    } catch {
      setCopied('failed')
    }
  }
  return (
    <section className="card reveal" role="region" aria-labelledby="reveal-title">
      <h2 id="reveal-title">Key “{created.name}” created</h2>
      <p>Copy it now: this is the only time the secret is shown. Store it somewhere safe.</p>
      <div className="reveal-row">
        <code data-testid="revealed-key" className="secret">{created.key}</code>
        <button type="button" className="button primary" onClick={copy}>
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </button>
      </div>
      <p role="status" className="hint">
        {copied === 'yes' ? 'Copied to the clipboard.' : copied === 'failed' ? 'The browser refused the clipboard: select the key and copy it by hand.' : ''}
      </p>
      <button type="button" className="button secondary" onClick={onDone}>
        I have stored it
      </button>
    </section>
  )
}

export function KeyForm({ tenantId, onCreated }: { tenantId: string; onCreated: (key: CreatedApiKey) => void }) {
  const api = useApi()
  const [name, setName] = useState('')
  const [models, setModels] = useState('')
  const [rpm, setRpm] = useState('')
  const [expires, setExpires] = useState('')
  const [errors, setErrors] = useState<Record<string, string | undefined>>({})
  const [failure, setFailure] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  async function submit(event: FormEvent) {
    event.preventDefault()
    const found: Record<string, string | undefined> = {}
    if (!name.trim()) found.name = 'A key needs a name, such as the app that will use it.'
    const [rpmLimit, rpmError] = optionalLimit(rpm, 'Requests per minute')
    found.rpm = rpmError
    let expiresAt: string | null = null
    if (expires) {
      const date = new Date(expires)
      if (Number.isNaN(date.getTime()) || date <= new Date()) found.expires = 'The expiry must be in the future.'
      else expiresAt = date.toISOString()
    }
    setErrors(found)
    if (Object.values(found).some(Boolean)) return
    setBusy(true)
    setFailure(null)
    try {
      const created = await api.createApiKey(tenantId, {
        name: name.trim(),
        allowed_models: models.split(',').map((m) => m.trim()).filter(Boolean),
        rpm_limit: rpmLimit,
        expires_at: expiresAt,
      })
      setName('')
      setModels('')
      setRpm('')
      setExpires('')
      onCreated(created)
    } catch (err) {
      setFailure(err instanceof Error ? err.message : String(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="card form-grid" onSubmit={submit} noValidate aria-label="Create an API key">
      <Field label="Key name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} placeholder="billing-service" />
      <Field label="Allowed models" value={models} onChange={(e) => setModels(e.target.value)}
        hint="Comma-separated; empty allows every model of the tenant." placeholder="gpt-4o-mini" />
      <Field label="Requests per minute" inputMode="numeric" value={rpm} onChange={(e) => setRpm(e.target.value)}
        error={errors.rpm} hint="Empty uses the default." />
      <Field label="Expires" type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} error={errors.expires} />
      <div className="form-actions">
        <button className="button primary" type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create key'}
        </button>
        <FormError message={failure} />
      </div>
    </form>
  )
}

export function KeysPage({ tenantId }: { tenantId: string }) {
  const api = useApi()
  const [tenant] = useAsync(() => api.listTenants({ limit: 500 }).then((p) => p.items.find((t) => t.id === tenantId) ?? null), [api, tenantId])
  const [state, reload] = useAsync(() => api.listApiKeys(tenantId), [api, tenantId])
  const [created, setCreated] = useState<CreatedApiKey | null>(null)
  const [actionError, setActionError] = useState<string | null>(null)
  const tenantName = tenant.status === 'ready' && tenant.data ? tenant.data.name : 'tenant'

  async function revoke(key: ApiKey) {
    if (!window.confirm(`Revoke “${key.name}”? Requests with it will be refused at once.`)) return
    setActionError(null)
    try {
      await api.revokeApiKey(key.id)
      reload()
    } catch (err) {
      setActionError(err instanceof Error ? err.message : String(err))
    }
  }

  return (
    <>
      <header className="page-header">
        <p className="breadcrumb"><a href="#/tenants">Tenants</a> / {tenantName}</p>
        <h1>API keys of {tenantName}</h1>
        <p>Keys authenticate calls to the proxy. Only the prefix and last four characters are kept.</p>
      </header>
      {created ? (
        <KeyReveal created={created} onDone={() => setCreated(null)} />
      ) : (
        <KeyForm tenantId={tenantId} onCreated={(key) => { setCreated(key); reload() }} />
      )}
      <FormError message={actionError} />
      <AsyncView state={state} onRetry={reload}>
        {(page) => (
          <DataTable
            caption={`API keys of ${tenantName}`}
            rows={page.items}
            rowKey={(k) => k.id}
            empty="This tenant has no keys yet."
            columns={[
              { header: 'Name', cell: (k) => k.name },
              { header: 'Key', cell: (k) => <code>{k.prefix}…{k.last4}</code> },
              { header: 'Status', cell: (k) => <span className={`badge badge-${keyStatus(k)}`}>{keyStatus(k)}</span> },
              { header: 'Models', cell: (k) => (k.allowed_models.length ? k.allowed_models.join(', ') : 'all') },
              { header: 'RPM', cell: (k) => k.rpm_limit ?? 'default', numeric: true },
              { header: 'Created', cell: (k) => formatDate(k.created_at) },
              {
                header: 'Actions',
                cell: (k) =>
                  k.revoked_at ? null : (
                    <button type="button" className="button small danger" onClick={() => revoke(k)} aria-label={`Revoke ${k.name}`}>
                      Revoke
                    </button>
                  ),
              },
            ]}
          />
        )}
      </AsyncView>
    </>
  )
}
