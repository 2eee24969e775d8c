import type { ReactNode } from 'react'
import type { AsyncState } from './useAsync'

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </div>
  )
}

export function ErrorNotice({ error, onRetry }: { error: Error; onRetry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <strong>Something went wrong.</strong> <span>{error.message}</span>
      {onRetry && (
        <button type="button" className="button secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  )
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state state-empty">{children}</div>
}

/** Render loading and error states, or `children(data)` once the data is there. */
export function AsyncView<T>({
  state,
  onRetry,
  children,
}: {
  state: AsyncState<T>
  onRetry?: () => void
  children: (data: T) => ReactNode
}) {
  if (state.status === 'loading') return <Loading />
  if (state.status === 'error') return <ErrorNotice error={state.error} onRetry={onRetry} />
  return <>{children(state.data)}</>
}
