import { useState, type FormEvent } from 'react'
import { useApi } from '../api/context'
import { DataTable } from '../components/DataTable'
import { Field, FormError } from '../components/Field'
import { AsyncView } from '../components/States'
import { useAsync } from '../components/useAsync'
import { formatMicroUsd, usdToMicro } from '../format'
import type { Model } from '../api/client'
import { ModelEditor } from './catalog/ModelEditor'

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/

export function ModelForm({ onCreated }: { onCreated: () => void }) {
  const api = useApi()
  const [form, setForm] = useState({ name: '', owned_by: '', context: '', input: '', output: '' })
  const [errors, setErrors] = useState<Record<string, string | undefined>>({})
  const [failure, setFailure] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const set = (field: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [field]: e.target.value })

  async function submit(event: FormEvent) {
    event.preventDefault()
    const found: Record<string, string | undefined> = {}
    if (!MODEL_NAME.test(form.name.trim())) found.name = 'Use the name clients send, e.g. gpt-4o-mini (letters, digits and . _ : / @ + -).'
    const input = usdToMicro(form.input)
    const output = usdToMicro(form.output)
    if (input === null) found.input = 'Enter a price in USD per million tokens, e.g. 0.15.'
    if (output === null) found.output = 'Enter a price in USD per million tokens, e.g. 0.60.'
    let context: number | null = null
    if (form.context.trim()) {
      if (!/^\d+$/.test(form.context.trim()) || Number(form.context) < 1) found.context = 'The context window is a whole number of tokens.'
      else context = Number(form.context)
    }
    setErrors(found)
    if (Object.values(found).some(Boolean) || input === null || output === null) return
    setBusy(true)
    setFailure(null)
    try {
      await api.createModel({
        name: form.name.trim(),
        owned_by: form.owned_by.trim() || undefined,
        context_window: context,
        pricing: { input_micro_usd_per_mtok: input, output_micro_usd_per_mtok: output },
      })
      setForm({ name: '', owned_by: '', context: '', input: '', output: '' })
      onCreated()
    } catch (err) {
      setFailure(err instanceof Error ? err.message : String(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="card form-grid" onSubmit={submit} noValidate aria-label="Add a model">
      <Field label="Model name" value={form.name} onChange={set('name')} error={errors.name} placeholder="gpt-4o-mini" />
      <Field label="Owned by" value={form.owned_by} onChange={set('owned_by')} placeholder="openai" />
      <Field label="Context window (tokens)" inputMode="numeric" value={form.context} onChange={set('context')} error={errors.context} />
      <Field label="Input price (USD / 1M tokens)" inputMode="decimal" value={form.input} onChange={set('input')} error={errors.input} placeholder="0.15" />
      <Field label="Output price (USD / 1M tokens)" inputMode="decimal" value={form.output} onChange={set('output')} error={errors.output} placeholder="0.60" />
      <div className="form-actions">
        <button className="button primary" type="submit" disabled={busy}>{busy ? 'Adding…' : 'Add model'}</button>
        <FormError message={failure} />
      </div>
    </form>
  )
}

export function ModelsPage() {
  const api = useApi()
  const [state, reload] = useAsync(() => api.listModels(), [api])
  const [editing, setEditing] = useState<Model | null>(null)
  return (
    <>
      <header className="page-header">
        <h1>Models</h1>
        <p>The catalogue clients can ask for, with the prices usage is billed at.</p>
      </header>
      {editing ? (
        <ModelEditor key={editing.id} model={editing} onCancel={() => setEditing(null)} onSaved={() => { setEditing(null); reload() }} />
      ) : (
        <ModelForm onCreated={reload} />
      )}
      <AsyncView state={state} onRetry={reload}>
        {(list) => (
          <DataTable
            caption="Models"
            rows={list.items}
            rowKey={(m) => m.id}
            empty="No models yet. Add one above, then give it a route."
            columns={[
              { header: 'Name', cell: (m) => <code>{m.name}</code> },
              { header: 'Owned by', cell: (m) => m.owned_by || '—' },
              { header: 'Context', cell: (m) => m.context_window?.toLocaleString('en-US') ?? '—', numeric: true },
              { header: 'Input / 1M', cell: (m) => formatMicroUsd(m.pricing.input_micro_usd_per_mtok), numeric: true },
              { header: 'Output / 1M', cell: (m) => formatMicroUsd(m.pricing.output_micro_usd_per_mtok), numeric: true },
              { header: 'Capabilities', cell: (m) => (m.capabilities.length ? m.capabilities.join(', ') : '—') },
              { header: 'Status', cell: (m) => <span className={`badge badge-${m.enabled ? 'active' : 'disabled'}`}>{m.enabled ? 'enabled' : 'disabled'}</span> },
              {
                header: 'Actions',
                cell: (m) => (
                  <button type="button" className="button small secondary" onClick={() => setEditing(m)} aria-label={`Edit ${m.name}`}>Edit</button>
                ),
              },
            ]}
          />
        )}
      </AsyncView>
    </>
  )
}
