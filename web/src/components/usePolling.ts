import { useCallback, useEffect, useRef, useState } from 'react'
import { asError } from './useAsync'

export interface Polled<T> {
  data: T | null
  error: Error | null
  updatedAt: Date | null
  refresh: () => void
}

/**
 * Load now and then every `intervalMs` while `live`, keeping the last good answer on screen while
 * a refresh runs or fails (a failed refresh shows its error next to the stale data, not instead).
 */
export function usePolling<T>(load: () => Promise<T>, intervalMs: number, live: boolean): Polled<T> {
  const [data, setData] = useState<T | null>(null)
  const [error, setError] = useState<Error | null>(null)
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null)
  const loadRef = useRef(load)
  useEffect(() => {
    loadRef.current = load
  })
  const mounted = useRef(true)

  const refresh = useCallback(() => {
    loadRef.current().then(
      (value) => {
        if (!mounted.current) return
        setData(value)
        setError(null)
        setUpdatedAt(new Date())
      },
      (err: unknown) => mounted.current && setError(asError(err)),
    )
  }, [])

  useEffect(() => {
    mounted.current = true
    refresh()
    return () => {
      mounted.current = false
    }
  }, [refresh])

  useEffect(() => {
    if (!live) return
    const timer = window.setInterval(refresh, intervalMs)
    return () => window.clearInterval(timer)
  }, [live, intervalMs, refresh])

  return { data, error, updatedAt, refresh }
}
