import { useState, type FormEvent } from 'react'
import type { Tenant } from '../../api/client'
import { useApi } from '../../api/context'
import { EditorActions } from '../../components/EditorActions'
import { useSubmit } from '../../components/useSubmit'
import { LimitFields } from '../keys/LimitFields'
import { limitChanges, limitTexts, parseLimits, type LimitTexts } from '../keys/limits'

/** A tenant's rate limits (all its keys together); empty removes the override (the default applies). */
export function TenantLimitsEditor({ tenant, onDone }: { tenant: Tenant; onDone: (saved: boolean) => void }) {
  const api = useApi()
  const [limits, setLimits] = useState<LimitTexts>(() => limitTexts(tenant))
  const [errors, setErrors] = useState<Record<string, string | undefined>>({})
  const { busy, failure, run } = useSubmit()

  async function submit(event: FormEvent) {
    event.preventDefault()
    const { values, errors: problems } = parseLimits(limits)
    setErrors(problems)
    if (Object.keys(problems).length) return
    const changes = limitChanges(tenant, values)
    if (!Object.keys(changes).length) return onDone(false)
    if (await run(() => api.updateTenant(tenant.id, changes))) onDone(true)
  }

  const title = `Rate limits of ${tenant.name}`
  return (
    <form className="card form-grid editor" onSubmit={submit} noValidate aria-label={title}>
      <h2 className="form-title">{title}</h2>
      <LimitFields limits={limits} errors={errors} onChange={setLimits} />
      <EditorActions busy={busy} failure={failure} saveLabel="Save limits" onCancel={() => onDone(false)} />
    </form>
  )
}
