import { useState, type FormEvent } from 'react'
import { EditorActions } from '../../components/EditorActions'
import { Field } from '../../components/Field'
import { useSubmit } from '../../components/useSubmit'
import { splitList } from './parse'

/** The models typed in a list field, or the first one that does not exist. */
export function checkModelList(text: string, known: string[]): { models?: string[]; error?: string } {
  const models = splitList(text)
  const unknown = models.find((m) => !known.includes(m))
  if (unknown) return { error: `No model is named “${unknown}”.` }
  if (models.length > 500) return { error: 'At most 500 models.' }
  return { models }
}

/** A form that edits a list of model names (empty = every model) and saves it with `save`. */
export function ModelListForm({ title, label, initial, known, saveLabel, save, onCancel }: {
  title: string
  label: string
  initial: string[]
  known: string[]
  saveLabel: string
  save: (models: string[]) => Promise<unknown>
  onCancel?: () => void
}) {
  const [text, setText] = useState(initial.join(', '))
  const [error, setError] = useState<string>()
  const [saved, setSaved] = useState(false)
  const { busy, failure, run } = useSubmit()

  async function submit(event: FormEvent) {
    event.preventDefault()
    setSaved(false)
    const { models, error: problem } = checkModelList(text, known)
    setError(problem)
    if (!models) return
    if (await run(() => save(models))) setSaved(true)
  }

  return (
    <form className="card form-grid editor" onSubmit={submit} noValidate aria-label={title}>
      <h2 className="form-title">{title}</h2>
      <Field wide label={label} value={text} onChange={(e) => { setText(e.target.value); setSaved(false) }} error={error}
        hint={known.length ? `Comma-separated; empty allows every model. Known: ${known.join(', ')}.` : 'No models exist yet; empty allows every model.'} />
      <EditorActions busy={busy} failure={failure} saveLabel={saveLabel} onCancel={onCancel}>
        {saved && <span role="status" className="muted">Saved.</span>}
      </EditorActions>
    </form>
  )
}
