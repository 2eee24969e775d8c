import { useState, type FormEvent } from 'react'
import type { ApiKey } from '../../api/client'
import { useApi } from '../../api/context'
import { EditorActions } from '../../components/EditorActions'
import { Field } from '../../components/Field'
import { useSubmit } from '../../components/useSubmit'
import { LimitFields } from './LimitFields'
import { checkKeyFields, limitChanges, limitTexts, splitModels } from './limits'

/** Change a key's name, allowed models, limits (empty = back to the default) and disabled flag. */
export function KeyEditor({ apiKey, onSaved, onCancel }: { apiKey: ApiKey; onSaved: () => void; onCancel: () => void }) {
  const api = useApi()
  const [name, setName] = useState(apiKey.name)
  const [models, setModels] = useState(apiKey.allowed_models.join(', '))
  const [limits, setLimits] = useState(limitTexts(apiKey))
  const [disabled, setDisabled] = useState(apiKey.disabled)
  const [errors, setErrors] = useState<Record<string, string | undefined>>({})
  const { busy, failure, run } = useSubmit()

  async function submit(event: FormEvent) {
    event.preventDefault()
    const parsed = checkKeyFields(name, limits)
    const found = parsed.errors
    setErrors(found)
    if (Object.values(found).some(Boolean)) return
    const change = { name: name.trim(), allowed_models: splitModels(models), disabled, ...limitChanges(apiKey, parsed.values) }
    if (await run(() => api.updateApiKey(apiKey.id, change))) onSaved()
  }

  return (
    <form className="card form-grid editor" onSubmit={submit} noValidate aria-label={`Edit key ${apiKey.name}`}>
      <h2 className="form-title">Edit “{apiKey.name}” <code>{apiKey.prefix}…{apiKey.last4}</code></h2>
      <Field label="Key name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} />
      <Field label="Allowed models" value={models} onChange={(e) => setModels(e.target.value)} hint="Comma-separated; empty allows every model." />
      <LimitFields limits={limits} errors={errors} onChange={setLimits} />
      <label className="checkbox">
        <input type="checkbox" checked={disabled} onChange={(e) => setDisabled(e.target.checked)} /> Disabled (refused until enabled again)
      </label>
      <EditorActions busy={busy} failure={failure} saveLabel="Save changes" onCancel={onCancel} />
    </form>
  )
}
