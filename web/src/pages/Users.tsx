import { useState, type FormEvent } from 'react'
import type { User, UserUpdate } from '../api/client'
import { useApi } from '../api/context'
import { DataTable } from '../components/DataTable'
import { Field, FormError } from '../components/Field'
import { AsyncView } from '../components/States'
import { useAsync } from '../components/useAsync'
import { useSubmit } from '../components/useSubmit'
import { formatDate } from '../format'

const MIN_PASSWORD = 12

/** Problems of a new user's form, by field (empty when it can be sent). */
export function userFormProblems(form: { email: string; display_name: string; password: string }): Record<string, string> {
  const found: Record<string, string> = {}
  if (!/^[^\s@]+@[^\s@]+$/.test(form.email.trim())) found.email = 'Enter an email address, e.g. dev@example.com.'
  if (form.display_name.length > 200) found.display_name = 'A display name has at most 200 characters.'
  if (form.password && form.password.length < MIN_PASSWORD) found.password = `A password has at least ${MIN_PASSWORD} characters.`
  return found
}

export function UserForm({ onCreated }: { onCreated: (user: User) => void }) {
  const api = useApi()
  const empty = { email: '', display_name: '', password: '' }
  const [form, setForm] = useState(empty)
  const [admin, setAdmin] = useState(false)
  const [errors, setErrors] = useState<Record<string, string>>({})
  const { busy, failure, run } = useSubmit()
  const set = (field: keyof typeof empty) => (e: { target: { value: string } }) => setForm({ ...form, [field]: e.target.value })

  async function submit(event: FormEvent) {
    event.preventDefault()
    const found = userFormProblems(form)
    setErrors(found)
    if (Object.keys(found).length) return
    await run(async () => {
      const user = await api.createUser({
        email: form.email.trim(),
        display_name: form.display_name.trim(),
        password: form.password || null,
        platform_admin: admin,
      })
      setForm(empty)
      setAdmin(false)
      onCreated(user)
    })
  }

  return (
    <form className="card form-grid" onSubmit={submit} noValidate aria-label="Create a user">
      <Field label="Email" type="email" value={form.email} onChange={set('email')} error={errors.email} />
      <Field label="Display name" value={form.display_name} onChange={set('display_name')} error={errors.display_name} />
      <Field label="Initial password" type="password" autoComplete="new-password" value={form.password} onChange={set('password')}
        error={errors.password} hint="Empty for a single sign-on account." />
      <label className="checkbox">
        <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} /> Platform admin
      </label>
      <div className="form-actions">
        <button className="button primary" type="submit" disabled={busy}>{busy ? 'Creating…' : 'Create user'}</button>
        <FormError message={failure} />
      </div>
    </form>
  )
}

export function UsersPage() {
  const api = useApi()
  const [state, reload] = useAsync(() => api.listUsers({ limit: 500 }), [api])
  const action = useSubmit()
  const update = async (user: User, change: UserUpdate) => (await action.run(() => api.updateUser(user.id, change))) && reload()

  return (
    <>
      <header className="page-header">
        <h1>Users</h1>
        <p>Everyone who can sign in. Each user gets a personal tenant for their own keys; add them to shared tenants from a tenant's members page.</p>
      </header>
      <UserForm onCreated={reload} />
      <FormError message={action.failure} />
      <AsyncView state={state} onRetry={reload}>
        {(page) => (
          <DataTable
            caption="Users"
            rows={page.items}
            rowKey={(u) => u.id}
            empty="No users yet."
            columns={[
              { header: 'Email', cell: (u) => u.email },
              { header: 'Name', cell: (u) => u.display_name || '—' },
              { header: 'Role', cell: (u) => (u.platform_admin ? 'Platform admin' : 'User') },
              { header: 'Sign-in', cell: (u) => [u.has_password && 'password', u.sso && 'SSO'].filter(Boolean).join(', ') || '—' },
              { header: 'Status', cell: (u) => <span className={`badge badge-${u.disabled ? 'disabled' : 'active'}`}>{u.disabled ? 'disabled' : 'active'}</span> },
              { header: 'Created', cell: (u) => formatDate(u.created_at) },
              {
                header: 'Actions',
                cell: (u) => (
                  <div className="actions">
                    <button type="button" className={`button small ${u.disabled ? 'secondary' : 'danger'}`}
                      onClick={() => update(u, { disabled: !u.disabled })} aria-label={`${u.disabled ? 'Enable' : 'Disable'} ${u.email}`}>
                      {u.disabled ? 'Enable' : 'Disable'}
                    </button>
                    <button type="button" className="button small secondary"
                      onClick={() => update(u, { platform_admin: !u.platform_admin })}
                      aria-label={`${u.platform_admin ? 'Remove platform admin from' : 'Make platform admin'} ${u.email}`}>
                      {u.platform_admin ? 'Remove admin' : 'Make admin'}
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
