import { useState, type FormEvent } from 'react'
import type { AlertChannel, AlertChannelCreate, AlertChannelTestResult } from '../../api/client'
import { useApi } from '../../api/context'
import { DataTable } from '../../components/DataTable'
import { Field, FormError, SelectField } from '../../components/Field'
import { AsyncView } from '../../components/States'
import { useAsync } from '../../components/useAsync'
import { useSubmit } from '../../components/useSubmit'

type Kind = AlertChannelCreate['kind']
const EMPTY = { name: '', kind: 'webhook' as Kind, target: '', secret: '' }

/** Problems of a new channel, by field. */
export function channelProblems(form: typeof EMPTY): Record<string, string> {
  const found: Record<string, string> = {}
  if (!form.name.trim()) found.name = 'A channel needs a name.'
  if (form.kind === 'webhook' && !/^https?:\/\/\S+$/.test(form.target.trim())) found.target = 'Enter the webhook URL, e.g. https://hooks.example.com/budget.'
  if (form.kind === 'email' && !/^[^\s@]+@[^\s@]+$/.test(form.target.trim())) found.target = 'Enter an email address.'
  if (form.secret && form.secret.length < 16) found.secret = 'A signing secret has at least 16 characters.'
  return found
}

/** Where the tenant's budget alerts go: webhooks (optionally signed) and email addresses. */
export function AlertChannels({ tenantId }: { tenantId: string }) {
  const api = useApi()
  const [state, reload] = useAsync(() => api.listAlertChannels(tenantId), [api, tenantId])
  const [form, setForm] = useState(EMPTY)
  const [errors, setErrors] = useState<Record<string, string>>({})
  const submit = useSubmit()
  const action = useSubmit()
  const set = (field: keyof typeof EMPTY) => (value: string) => setForm((f) => ({ ...f, [field]: value }))
  const [tested, setTested] = useState<{ name: string; result: AlertChannelTestResult } | null>(null)
  const act = async (change: () => Promise<unknown>) => (await action.run(change)) && reload()
  const sendTest = (c: AlertChannel) => {
    setTested(null)
    return action.run(async () => setTested({ name: c.name, result: await api.sendTestAlert(c.id) }))
  }

  async function create(event: FormEvent) {
    event.preventDefault()
    const found = channelProblems(form)
    setErrors(found)
    if (Object.keys(found).length) return
    const body = { name: form.name.trim(), kind: form.kind, target: form.target.trim(), secret: form.secret || null }
    if (await submit.run(() => api.createAlertChannel(tenantId, body))) {
      setForm(EMPTY)
      reload()
    }
  }

  const remove = (c: AlertChannel) => window.confirm(`Delete the channel “${c.name}”?`) && act(() => api.deleteAlertChannel(c.id))
  return (
    <section aria-labelledby="channels-title" className="stack">
      <h2 id="channels-title" className="section-title">Alert channels</h2>
      <form className="card form-grid" onSubmit={create} noValidate aria-label="Add an alert channel">
        <Field label="Channel name" value={form.name} onChange={(e) => set('name')(e.target.value)} error={errors.name} placeholder="finance-webhook" />
        <SelectField label="Kind" value={form.kind} onChange={set('kind')} options={[{ value: 'webhook', label: 'Webhook' }, { value: 'email', label: 'Email' }]} />
        <Field label={form.kind === 'webhook' ? 'Webhook URL' : 'Email address'} value={form.target} onChange={(e) => set('target')(e.target.value)} error={errors.target} />
        {form.kind === 'webhook' && (
          <Field label="Signing secret" type="password" autoComplete="off" value={form.secret} onChange={(e) => set('secret')(e.target.value)} error={errors.secret}
            hint="Optional and write-only: it signs each webhook and is never shown again." />
        )}
        <div className="form-actions">
          <button className="button primary" type="submit" disabled={submit.busy}>{submit.busy ? 'Adding…' : 'Add channel'}</button>
          <FormError message={submit.failure} />
        </div>
      </form>
      <FormError message={action.failure} />
      <TestAlertOutcome tested={tested} />
      <AsyncView state={state} onRetry={reload}>
        {(list) => (
          <DataTable
            caption="Alert channels"
            rows={list.items}
            rowKey={(c) => c.id}
            empty="No channels: alerts of this tenant go only to the platform's channels."
            columns={[
              { header: 'Name', cell: (c) => c.name },
              { header: 'Kind', cell: (c) => c.kind },
              { header: 'Target', cell: (c) => <code>{c.target}</code> },
              { header: 'Signed', cell: (c) => (c.has_secret ? 'yes' : 'no') },
              { header: 'Status', cell: (c) => <span className={`badge badge-${c.enabled ? 'active' : 'disabled'}`}>{c.enabled ? 'enabled' : 'paused'}</span> },
              {
                header: 'Actions',
                cell: (c) => (
                  <div className="actions">
                    <button type="button" className="button small secondary" onClick={() => act(() => api.setAlertChannelEnabled(c.id, !c.enabled))}
                      aria-label={`${c.enabled ? 'Pause' : 'Enable'} ${c.name}`}>{c.enabled ? 'Pause' : 'Enable'}</button>
                    <button type="button" className="button small secondary" onClick={() => sendTest(c)} disabled={action.busy}
                      aria-label={`Send a test alert to ${c.name}`}>Send test</button>
                    <button type="button" className="button small danger" onClick={() => remove(c)} aria-label={`Delete ${c.name}`}>Delete</button>
                  </div>
                ),
              },
            ]}
          />
        )}
      </AsyncView>
    </section>
  )
}

/** What the last test alert did: the channel accepted it, or the sender's reason it did not. */
export function TestAlertOutcome({ tested }: { tested: { name: string; result: AlertChannelTestResult } | null }) {
  if (!tested) return null
  const { name, result } = tested
  return (
    <p className={`notice ${result.delivered ? 'notice-ok' : 'notice-error'}`} role="status">
      {result.delivered
        ? `Test alert delivered to “${name}”.`
        : `Test alert to “${name}” was not delivered: ${result.error ?? 'no reason given'}.`}
    </p>
  )
}
