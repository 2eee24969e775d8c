import { useState } from 'react'
import { asError } from './useAsync'

/**
 * The busy flag and the server's refusal of a form: `run(action)` marks the form busy, clears the
 * last failure, runs the action and keeps its error message (so a refusal is said, not thrown).
 * Resolves to whether the action succeeded.
 */
export function useSubmit(): { busy: boolean; failure: string | null; run: (action: () => Promise<unknown>) => Promise<boolean> } {
  const [busy, setBusy] = useState(false)
  const [failure, setFailure] = useState<string | null>(null)
  async function run(action: () => Promise<unknown>): Promise<boolean> {
    setBusy(true)
    setFailure(null)
    try {
      await action()
      return true
    } catch (err) {
      setFailure(asError(err).message)
      return false
    } finally {
      setBusy(false)
    }
  }
  return { busy, failure, run }
}
