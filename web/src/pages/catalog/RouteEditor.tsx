import { useState, type FormEvent } from 'react'
import type { Route, RouteUpdate } from '../../api/client'
import { useApi } from '../../api/context'
import { EditorActions } from '../../components/EditorActions'
import { Field, SelectField } from '../../components/Field'
import { useSubmit } from '../../components/useSubmit'
import { splitList } from './parse'

export const STRATEGIES: { value: NonNullable<RouteUpdate['strategy']>; label: string }[] = [
  { value: 'weighted', label: 'Weighted' },
  { value: 'least_busy', label: 'Least busy' },
  { value: 'lowest_latency', label: 'Lowest latency' },
  { value: 'lowest_cost', label: 'Lowest cost' },
]

/** The PATCH body for a route's strategy and fallbacks, or the fallbacks' error. */
export function routeChange(route: Route, strategy: string, fallbacks: string, known: string[]): { change?: RouteUpdate; error?: string } {
  const models = splitList(fallbacks)
  if (models.includes(route.model)) return { error: 'A route cannot fall back to its own model.' }
  const unknown = models.find((m) => !known.includes(m))
  if (unknown) return { error: `No model is named “${unknown}”.` }
  if (models.length > 20) return { error: 'At most 20 fallback models.' }
  return { change: { strategy: strategy as RouteUpdate['strategy'], fallback_models: models } }
}

/** Change how a route picks among its deployments, and which models it falls back to. */
export function RouteEditor({ route, models, onSaved, onCancel }: { route: Route; models: string[]; onSaved: () => void; onCancel: () => void }) {
  const api = useApi()
  const [strategy, setStrategy] = useState(route.strategy)
  const [fallbacks, setFallbacks] = useState(route.fallback_models.join(', '))
  const [error, setError] = useState<string>()
  const { busy, failure, run } = useSubmit()

  async function submit(event: FormEvent) {
    event.preventDefault()
    const { change, error: problem } = routeChange(route, strategy, fallbacks, models)
    setError(problem)
    if (!change) return
    if (await run(() => api.updateRoute(route.id, change))) onSaved()
  }

  return (
    <form className="card form-grid editor" onSubmit={submit} noValidate aria-label={`Edit route ${route.model}`}>
      <h2 className="form-title">Edit the route of <code>{route.model}</code></h2>
      <SelectField label="Strategy" value={strategy} onChange={setStrategy} options={STRATEGIES} />
      <Field label="Fallback models" value={fallbacks} onChange={(e) => setFallbacks(e.target.value)} error={error}
        hint="Comma-separated, tried in order when every deployment fails." />
      <EditorActions busy={busy} failure={failure} saveLabel="Save route" onCancel={onCancel} />
    </form>
  )
}
