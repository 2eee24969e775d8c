import { useState, type FormEvent } from 'react'
import type { ApiKey, CreatedApiKey } from '../../api/client'
import { useApi } from '../../api/context'
import { FormError, SelectField } from '../../components/Field'
import { useSubmit } from '../../components/useSubmit'

const GRACE = [
  { value: '0', label: 'Stop the old key now' },
  { value: '3600', label: 'Keep the old key for 1 hour' },
  { value: '86400', label: 'Keep the old key for 24 hours' },
  { value: '604800', label: 'Keep the old key for 7 days' },
]

/** Issue a successor with the same settings; the old key keeps working for the chosen grace period. */
export function RotateKey({ apiKey, onRotated, onCancel }: { apiKey: ApiKey; onRotated: (key: CreatedApiKey) => void; onCancel: () => void }) {
  const api = useApi()
  const [grace, setGrace] = useState('86400')
  const { busy, failure, run } = useSubmit()

  async function submit(event: FormEvent) {
    event.preventDefault()
    await run(async () => onRotated(await api.rotateApiKey(apiKey.id, Number(grace))))
  }

  return (
    <form className="card form-inline editor" onSubmit={submit} aria-label={`Rotate key ${apiKey.name}`}>
      <h2 className="form-title">Rotate “{apiKey.name}”</h2>
      <p className="hint">A new secret with the same models and limits. Update your app, then let the old one expire.</p>
      <SelectField label="Old key" value={grace} onChange={setGrace} options={GRACE} />
      <button className="button primary" type="submit" disabled={busy}>{busy ? 'Rotating…' : 'Rotate key'}</button>
      <button className="button secondary" type="button" onClick={onCancel}>Cancel</button>
      <FormError message={failure} />
    </form>
  )
}
