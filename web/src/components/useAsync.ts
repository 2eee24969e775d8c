import { useCallback, useEffect, useState } from 'react'

export type AsyncState<T> =
  | { status: 'loading' }
  | { status: 'error'; error: Error }
  | { status: 'ready'; data: T }

/** Run `load` on mount and whenever `deps` change; `reload` runs it again on demand. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): [AsyncState<T>, () => void] {
  const [state, setState] = useState<AsyncState<T>>({ status: 'loading' })
  const [generation, setGeneration] = useState(0)
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps)
  useEffect(() => {
    let live = true
    setState({ status: 'loading' })
    run().then(
      (data) => live && setState({ status: 'ready', data }),
      (error: unknown) => live && setState({ status: 'error', error: asError(error) }),
    )
    return () => {
      live = false
    }
  }, [run, generation])
  return [state, () => setGeneration((g) => g + 1)]
}

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
