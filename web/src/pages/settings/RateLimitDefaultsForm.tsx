import { useState, type FormEvent } from 'react'
import type { RateLimitDefaults, RateLimitSet } from '../../api/client'
import { EditorActions } from '../../components/EditorActions'
import { Field } from '../../components/Field'
import { useSubmit } from '../../components/useSubmit'
import { parseLimit } from '../keys/limits'

const SCOPES = [
  { scope: 'key_limits', label: 'Key' },
  { scope: 'tenant_limits', label: 'Tenant' },
] as const
const FIELDS = [
  { field: 'rpm', label: 'requests per minute' },
  { field: 'tpm', label: 'tokens per minute' },
  { field: 'max_parallel', label: 'parallel requests' },
] as const

type Scope = (typeof SCOPES)[number]['scope']
type LimitField = (typeof FIELDS)[number]['field']
type Texts = Record<Scope, Record<LimitField, string>>

function toTexts(defaults: RateLimitDefaults): Texts {
  const text = (set: RateLimitSet | undefined, field: LimitField) => (set?.[field] ? String(set[field]) : '')
  const scopeTexts = (set: RateLimitSet | undefined) => ({
    rpm: text(set, 'rpm'), tpm: text(set, 'tpm'), max_parallel: text(set, 'max_parallel'),
  })
  return { key_limits: scopeTexts(defaults.key_limits), tenant_limits: scopeTexts(defaults.tenant_limits) }
}

/** The texts parsed (empty sends 0: control sets no default), with an error per wrong field. */
function parseTexts(texts: Texts): { body: RateLimitDefaults; errors: Record<string, string | undefined> } {
  const errors: Record<string, string | undefined> = {}
  const body: Record<Scope, Record<LimitField, number>> = {
    key_limits: { rpm: 0, tpm: 0, max_parallel: 0 },
    tenant_limits: { rpm: 0, tpm: 0, max_parallel: 0 },
  }
  for (const { scope, label: scopeLabel } of SCOPES) {
    for (const { field, label } of FIELDS) {
      const parsed = parseLimit(texts[scope][field], `${scopeLabel} ${label}`)
      body[scope][field] = parsed.value ?? 0
      if (parsed.error) errors[`${scope}.${field}`] = parsed.error
    }
  }
  return { body, errors }
}

/** Platform rate-limit defaults for keys and tenants without their own limits. */
export function RateLimitDefaultsForm({ initial, save }: {
  initial: RateLimitDefaults
  save: (defaults: RateLimitDefaults) => Promise<unknown>
}) {
  const [texts, setTexts] = useState<Texts>(() => toTexts(initial))
  const [errors, setErrors] = useState<Record<string, string | undefined>>({})
  const [saved, setSaved] = useState(false)
  const { busy, failure, run } = useSubmit()

  async function submit(event: FormEvent) {
    event.preventDefault()
    setSaved(false)
    const { body, errors: problems } = parseTexts(texts)
    setErrors(problems)
    if (Object.keys(problems).length) return
    if (await run(() => save(body))) setSaved(true)
  }

  function change(scope: Scope, field: LimitField, value: string) {
    setTexts({ ...texts, [scope]: { ...texts[scope], [field]: value } })
    setSaved(false)
  }

  return (
    <form className="card form-grid editor" onSubmit={submit} noValidate aria-label="Rate-limit defaults">
      <h2 className="form-title">Rate-limit defaults</h2>
      <p className="muted field-wide">
        For keys and tenants without their own limits; a tenant&apos;s limits count all its keys together.
        Empty leaves the field to the proxy&apos;s <code>DEFAULT_*</code> setting.
      </p>
      {SCOPES.map(({ scope, label: scopeLabel }) =>
        FIELDS.map(({ field, label }) => (
          <Field key={`${scope}.${field}`} label={`${scopeLabel} ${label}`} inputMode="numeric"
            value={texts[scope][field]} error={errors[`${scope}.${field}`]}
            onChange={(e) => change(scope, field, e.target.value)} />
        )),
      )}
      <EditorActions busy={busy} failure={failure} saveLabel="Save rate-limit defaults">
        {saved && <span role="status" className="muted">Saved.</span>}
      </EditorActions>
    </form>
  )
}
