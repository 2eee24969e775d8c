import type { ReactNode } from 'react'
import { FormError } from './Field'

/** The buttons of an edit form: save (busy while sending), cancel, and the server's refusal. */
export function EditorActions({ busy, saveLabel, failure, onCancel, children }: {
  busy: boolean
  saveLabel: string
  failure: string | null
  onCancel?: () => void
  children?: ReactNode
}) {
  return (
    <div className="form-actions">
      <button className="button primary" type="submit" disabled={busy}>{busy ? 'Saving…' : saveLabel}</button>
      {onCancel && <button className="button secondary" type="button" onClick={onCancel}>Cancel</button>}
      {children}
      <FormError message={failure} />
    </div>
  )
}
