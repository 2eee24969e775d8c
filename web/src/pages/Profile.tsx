import { useState, type FormEvent } from 'react'
import type { User } from '../api/client'
import { useApi } from '../api/context'
import { DataTable } from '../components/DataTable'
import { Field, FormError } from '../components/Field'
import { AsyncView } from '../components/States'
import { asError, useAsync } from '../components/useAsync'
import { tenantLabel } from '../format'

function ProfileForm({ user, onSaved }: { user: User; onSaved: () => void }) {
  const api = useApi()
  const [name, setName] = useState(user.display_name)
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null)

  async function submit(event: FormEvent) {
    event.preventDefault()
    try {
      await api.updateMyProfile(name.trim())
      setResult({ ok: true, text: 'Saved.' })
      onSaved()
    } catch (err) {
      setResult({ ok: false, text: asError(err).message })
    }
  }

  return (
    <form className="card form-inline" onSubmit={submit} noValidate aria-label="Profile">
      <Field label="Email" value={user.email} readOnly size={Math.max(24, user.email.length + 2)} />
      <Field label="Display name" value={name} onChange={(e) => setName(e.target.value)} />
      <button className="button primary" type="submit">Save</button>
      {result && (result.ok ? <p role="status" className="hint">{result.text}</p> : <FormError message={result.text} />)}
    </form>
  )
}

function PasswordForm() {
  const api = useApi()
  const empty = { current: '', next: '', again: '' }
  const [form, setForm] = useState(empty)
  const [errors, setErrors] = useState<Record<string, string | undefined>>({})
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null)
  const set = (field: keyof typeof empty) => (e: { target: { value: string } }) => setForm({ ...form, [field]: e.target.value })

  async function submit(event: FormEvent) {
    event.preventDefault()
    const found: Record<string, string | undefined> = {}
    if (!form.current) found.current = 'Enter your current password.'
    if (form.next.length < 12) found.next = 'A password has at least 12 characters.'
    else if (form.next !== form.again) found.again = 'The two new passwords differ.'
    setErrors(found)
    if (Object.values(found).some(Boolean)) return
    try {
      await api.changeMyPassword(form.current, form.next)
      setForm(empty)
      setResult({ ok: true, text: 'Password changed. Every session, this one included, will ask for it at the next sign-in.' })
    } catch (err) {
      setResult({ ok: false, text: asError(err).message })
    }
  }

  return (
    <form className="card form-grid" onSubmit={submit} noValidate aria-label="Change password">
      <h2 className="form-title">Change password</h2>
      <Field label="Current password" type="password" autoComplete="current-password" value={form.current} onChange={set('current')} error={errors.current} />
      <Field label="New password" type="password" autoComplete="new-password" value={form.next} onChange={set('next')} error={errors.next} />
      <Field label="New password again" type="password" autoComplete="new-password" value={form.again} onChange={set('again')} error={errors.again} />
      <div className="form-actions">
        <button className="button primary" type="submit">Change password</button>
        {result && (result.ok ? <p role="status" className="hint">{result.text}</p> : <FormError message={result.text} />)}
      </div>
    </form>
  )
}

/** My profile, my password, and the tenants I belong to (with links where I may manage them). */
export function ProfilePage() {
  const api = useApi()
  const [me, reloadMe] = useAsync(() => api.getMyProfile(), [api])
  const [tenants, reloadTenants] = useAsync(() => api.listMyTenants(), [api])

  return (
    <>
      <header className="page-header">
        <h1>Profile and tenants</h1>
        <p>Your account, and the tenants you can use keys in.</p>
      </header>
      <AsyncView state={me} onRetry={reloadMe}>
        {(user) => (
          <>
            <ProfileForm user={user} onSaved={reloadMe} />
            {user.has_password ? <PasswordForm /> : <p className="hint">You sign in with single sign-on: your password is managed there.</p>}
          </>
        )}
      </AsyncView>
      <h2 className="section-title">My tenants</h2>
      <AsyncView state={tenants} onRetry={reloadTenants}>
        {(list) => (
          <DataTable
            caption="My tenants"
            rows={list.items}
            rowKey={(t) => t.id}
            empty="You belong to no tenant yet."
            columns={[
              { header: 'Tenant', cell: (t) => tenantLabel(t) },
              { header: 'My role', cell: (t) => t.role },
              { header: 'Status', cell: (t) => <span className={`badge badge-${t.status}`}>{t.status}</span> },
              {
                header: 'Manage',
                cell: (t) =>
                  t.role === 'owner' || t.role === 'admin' ? (
                    <div className="actions">
                      <a className="button small secondary" href={`#/tenants/${t.id}/keys`}>API keys</a>
                      {!t.is_personal && <a className="button small secondary" href={`#/tenants/${t.id}/members`}>Members</a>}
                      <a className="button small secondary" href={`#/tenants/${t.id}/budgets`}>Budgets</a>
                    </div>
                  ) : (
                    <span className="muted">—</span>
                  ),
              },
            ]}
          />
        )}
      </AsyncView>
    </>
  )
}
