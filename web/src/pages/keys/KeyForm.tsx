import { useState, type FormEvent, type ReactNode } from 'react'
import type { ApiKeyCreate, CreatedApiKey } from '../../api/client'
import { Field, FormError } from '../../components/Field'
import { useSubmit } from '../../components/useSubmit'
import { LimitFields } from './LimitFields'
import { checkKeyFields, NO_LIMITS, splitModels, type LimitTexts } from './limits'

/**
 * Create a key: name, allowed models, per-key limits and expiry. `create` sends it (to a
 * tenant's keys, or to my own); `children` adds fields such as the tenant to create it in.
 */
export function KeyForm({
  create,
  onCreated,
  children,
}: {
  create: (body: ApiKeyCreate) => Promise<CreatedApiKey>
  onCreated: (key: CreatedApiKey) => void
  children?: ReactNode
}) {
  const [name, setName] = useState('')
  const [models, setModels] = useState('')
  const [limits, setLimits] = useState<LimitTexts>(NO_LIMITS)
  const [expires, setExpires] = useState('')
  const [errors, setErrors] = useState<Record<string, string | undefined>>({})
  const { busy, failure, run } = useSubmit()

  async function submit(event: FormEvent) {
    event.preventDefault()
    const parsed = checkKeyFields(name, limits)
    const found = parsed.errors
    let expiresAt: string | null = null
    if (expires) {
      const date = new Date(expires)
      if (Number.isNaN(date.getTime()) || date <= new Date()) found.expires = 'The expiry must be in the future.'
      else expiresAt = date.toISOString()
    }
    setErrors(found)
    if (Object.values(found).some(Boolean)) return
    await run(async () => {
      const created = await create({ name: name.trim(), allowed_models: splitModels(models), ...parsed.values, expires_at: expiresAt })
      setName('')
      setModels('')
      setLimits(NO_LIMITS)
      setExpires('')
      onCreated(created)
    })
  }

  return (
    <form className="card form-grid" onSubmit={submit} noValidate aria-label="Create an API key">
      {children}
      <Field label="Key name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} placeholder="billing-service" />
      <Field label="Allowed models" value={models} onChange={(e) => setModels(e.target.value)}
        hint="Comma-separated; empty allows every model of the tenant." placeholder="gpt-4o-mini" />
      <LimitFields limits={limits} errors={errors} onChange={setLimits} />
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
