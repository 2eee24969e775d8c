import { useState, type FormEvent } from 'react'
import type { Member, TenantRole } from '../api/client'
import { useApi } from '../api/context'
import { DataTable } from '../components/DataTable'
import { Field, FormError, SelectField } from '../components/Field'
import { AsyncView } from '../components/States'
import { TenantHeader, useTenantName } from '../components/TenantHeader'
import { useAsync } from '../components/useAsync'
import { useSubmit } from '../components/useSubmit'
import { formatDate } from '../format'

export const ROLES: { value: TenantRole; label: string }[] = [
  { value: 'viewer', label: 'Viewer — sees keys and usage' },
  { value: 'member', label: 'Member — manages own keys' },
  { value: 'admin', label: 'Admin — manages keys and members' },
  { value: 'owner', label: 'Owner — everything, including owners' },
]

export function MemberForm({ tenantId, onAdded }: { tenantId: string; onAdded: (member: Member) => void }) {
  const api = useApi()
  const [email, setEmail] = useState('')
  const [role, setRole] = useState<TenantRole>('member')
  const [error, setError] = useState<string>()
  const { busy, failure, run } = useSubmit()

  async function submit(event: FormEvent) {
    event.preventDefault()
    const problem = /^[^\s@]+@[^\s@]+$/.test(email.trim()) ? undefined : 'Enter the email of an existing user.'
    setError(problem)
    if (problem) return
    await run(async () => {
      const member = await api.addMember(tenantId, email.trim(), role)
      setEmail('')
      onAdded(member)
    })
  }

  return (
    <form className="card form-inline" onSubmit={submit} noValidate aria-label="Add a member">
      <Field label="Member email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} error={error} placeholder="dev@example.com" />
      <SelectField label="Role" value={role} onChange={(value) => setRole(value as TenantRole)} options={ROLES} />
      <button className="button primary" type="submit" disabled={busy}>{busy ? 'Adding…' : 'Add member'}</button>
      <FormError message={failure} />
    </form>
  )
}

export function MembersPage({ tenantId }: { tenantId: string }) {
  const api = useApi()
  const tenantName = useTenantName(tenantId)
  const [state, reload] = useAsync(() => api.listMembers(tenantId), [api, tenantId])
  const action = useSubmit()

  const act = async (change: () => Promise<unknown>) => (await action.run(change)) && reload()

  const remove = (m: Member) =>
    window.confirm(`Remove ${m.email} from ${tenantName}? Their keys in it stop working.`) && act(() => api.removeMember(tenantId, m.user_id))

  return (
    <>
      <TenantHeader tenantId={tenantId} tenantName={tenantName} page="members" title={`Members of ${tenantName}`}>
        Who may use this tenant, and what they may do in it.
      </TenantHeader>
      <MemberForm tenantId={tenantId} onAdded={reload} />
      <FormError message={action.failure} />
      <AsyncView state={state} onRetry={reload}>
        {(list) => (
          <DataTable
            caption={`Members of ${tenantName}`}
            rows={list.items}
            rowKey={(m) => m.user_id}
            empty="No members yet. Add the first one above."
            columns={[
              { header: 'Email', cell: (m) => m.email },
              { header: 'Name', cell: (m) => m.display_name || '—' },
              {
                header: 'Role',
                cell: (m) => (
                  <select aria-label={`Role of ${m.email}`} value={m.role} className="inline-select"
                    onChange={(e) => act(() => api.updateMember(tenantId, m.user_id, e.target.value as TenantRole))}>
                    {ROLES.map((r) => <option key={r.value} value={r.value}>{r.value}</option>)}
                  </select>
                ),
              },
              { header: 'Status', cell: (m) => <span className={`badge badge-${m.disabled ? 'disabled' : 'active'}`}>{m.disabled ? 'disabled' : 'active'}</span> },
              { header: 'Since', cell: (m) => formatDate(m.created_at) },
              {
                header: 'Actions',
                cell: (m) => (
                  <button type="button" className="button small danger" onClick={() => remove(m)} aria-label={`Remove ${m.email}`}>Remove</button>
                ),
              },
            ]}
          />
        )}
      </AsyncView>
    </>
  )
}
