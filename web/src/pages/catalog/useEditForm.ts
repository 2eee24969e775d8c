import { useState, type FormEvent } from 'react'
import { useSubmit } from '../../components/useSubmit'

export type Errors = Record<string, string | undefined>
export type Build<T, B> = (texts: T, enabled: boolean) => { change?: B; errors: Errors }

/**
 * The state of an edit form over `initial` texts and an enabled flag: `set(field)` is an input's
 * onChange (it also clears that field's error), `submit` validates with `build` and, when the
 * change is valid, sends it with `save` and calls `onSaved`.
 */
export function useEditForm<T extends Record<string, string>, B>(
  initial: () => T,
  enabledInitially: boolean,
  build: Build<T, B>,
  save: (change: B) => Promise<unknown>,
  onSaved: () => void,
) {
  const [texts, setTexts] = useState(initial)
  const [enabled, setEnabled] = useState(enabledInitially)
  const [errors, setErrors] = useState<Errors>({})
  const { busy, failure, run } = useSubmit()
  const set = (field: keyof T) => (e: { target: { value: string } }) => {
    setTexts((t) => ({ ...t, [field]: e.target.value }))
    setErrors((x) => ({ ...x, [field]: undefined }))
  }
  async function submit(event: FormEvent) {
    event.preventDefault()
    const { change, errors: found } = build(texts, enabled)
    setErrors(found)
    if (change === undefined) return
    if (await run(() => save(change))) onSaved()
  }
  return { texts, set, enabled, setEnabled, errors, busy, failure, submit }
}
