import { useState, type FormEvent } from 'react'
import { useApi } from '../api/context'
import type { Model, Provider } from '../api/client'
import { DataTable } from '../components/DataTable'
import { Field, FormError, SelectField } from '../components/Field'
import { AsyncView } from '../components/States'
import { useAsync } from '../components/useAsync'

function RouteForm({ models, providers, onCreated }: { models: Model[]; providers: Provider[]; onCreated: () => void }) {
  const api = useApi()
  const [model, setModel] = useState(models[0]?.name ?? '')
  const [provider, setProvider] = useState(providers[0]?.id ?? '')
  const [upstream, setUpstream] = useState('')
  const [weight, setWeight] = useState('1')
  const [strategy, setStrategy] = useState<'weighted' | 'least_busy' | 'lowest_latency'>('weighted')
  const [errors, setErrors] = useState<Record<string, string | undefined>>({})
  const [failure, setFailure] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  if (models.length === 0 || providers.length === 0) {
    return (
      <p className="card notice">
        A route sends a model to a provider: add a <a href="#/models">model</a> and a <a href="#/providers">provider</a> first.
      </p>
    )
  }

  async function submit(event: FormEvent) {
    event.preventDefault()
    const found: Record<string, string | undefined> = {}
    if (!model) found.model = 'Choose a model.'
    if (!provider) found.provider = 'Choose a provider.'
    if (!/^\S+$/.test(upstream.trim())) found.upstream = 'Enter the model name the provider expects.'
    if (!/^\d+$/.test(weight.trim())) found.weight = 'The weight is a whole number (0 or more).'
    setErrors(found)
    if (Object.values(found).some(Boolean)) return
    setBusy(true)
    setFailure(null)
    try {
      await api.createRoute({
        model,
        strategy,
        deployments: [{ provider_id: provider, upstream_model: upstream.trim(), weight: Number(weight) }],
      })
      setUpstream('')
      onCreated()
    } catch (err) {
      setFailure(err instanceof Error ? err.message : String(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="card form-grid" onSubmit={submit} noValidate aria-label="Create a route">
      <SelectField label="Model" value={model} onChange={setModel} error={errors.model}
        options={models.map((m) => ({ value: m.name, label: m.name }))} />
      <SelectField label="Provider" value={provider} onChange={setProvider} error={errors.provider}
        options={providers.map((p) => ({ value: p.id, label: p.name }))} />
      <Field label="Upstream model" value={upstream} onChange={(e) => setUpstream(e.target.value)} error={errors.upstream} placeholder="gpt-4o-mini-2024-07-18" />
      <Field label="Weight" inputMode="numeric" value={weight} onChange={(e) => setWeight(e.target.value)} error={errors.weight} />
      <SelectField label="Strategy" value={strategy} onChange={(v) => setStrategy(v as typeof strategy)}
        options={[{ value: 'weighted', label: 'Weighted' }, { value: 'least_busy', label: 'Least busy' }, { value: 'lowest_latency', label: 'Lowest latency' }]} />
      <div className="form-actions">
        <button className="button primary" type="submit" disabled={busy}>{busy ? 'Creating…' : 'Create route'}</button>
        <FormError message={failure} />
      </div>
    </form>
  )
}

export function RoutesPage() {
  const api = useApi()
  const [state, reload] = useAsync(
    () => Promise.all([api.listRoutes(), api.listModels(), api.listProviders()]),
    [api],
  )
  return (
    <>
      <header className="page-header">
        <h1>Routes</h1>
        <p>Which provider deployments serve each model, and how traffic is split between them.</p>
      </header>
      <AsyncView state={state} onRetry={reload}>
        {([routes, models, providers]) => {
          const providerName = new Map(providers.items.map((p) => [p.id, p.name]))
          return (
            <>
              <RouteForm models={models.items} providers={providers.items} onCreated={reload} />
              <DataTable
                caption="Routes"
                rows={routes.items}
                rowKey={(r) => r.id}
                empty="No routes yet: requests for a model fail until it has one."
                columns={[
                  { header: 'Model', cell: (r) => <code>{r.model}</code> },
                  { header: 'Strategy', cell: (r) => r.strategy.replace('_', ' ') },
                  {
                    header: 'Deployments',
                    cell: (r) => (
                      <ul className="plain">
                        {r.deployments.map((d) => (
                          <li key={d.id}>
                            {providerName.get(d.provider_id) ?? d.provider_id} → <code>{d.upstream_model}</code>{' '}
                            <span className="muted">weight {d.weight}, priority {d.priority}</span>
                          </li>
                        ))}
                      </ul>
                    ),
                  },
                  { header: 'Fallbacks', cell: (r) => (r.fallback_models.length ? r.fallback_models.join(', ') : '—') },
                ]}
              />
            </>
          )
        }}
      </AsyncView>
    </>
  )
}
