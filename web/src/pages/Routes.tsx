import { useState, type FormEvent } from 'react'
import { useApi } from '../api/context'
import type { Deployment, Model, Provider, Route, RouteCreate } from '../api/client'
import { DeploymentEditor } from './catalog/DeploymentEditor'
import { RouteEditor, STRATEGIES } from './catalog/RouteEditor'
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
  const [strategy, setStrategy] = useState<Route['strategy']>('weighted')
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
        strategy: strategy as RouteStrategy,
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
      <SelectField label="Strategy" value={strategy} onChange={setStrategy} options={STRATEGIES} />
      <div className="form-actions">
        <button className="button primary" type="submit" disabled={busy}>{busy ? 'Creating…' : 'Create route'}</button>
        <FormError message={failure} />
      </div>
    </form>
  )
}

type RouteStrategy = NonNullable<RouteCreate['strategy']>
type Editing = { kind: 'route'; route: Route } | { kind: 'deployment'; route: Route; deployment: Deployment } | null

export function RoutesPage() {
  const api = useApi()
  const [editing, setEditing] = useState<Editing>(null)
  const close = () => setEditing(null)
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
              {editing?.kind === 'route' && (
                <RouteEditor key={editing.route.id} route={editing.route} models={models.items.map((m) => m.name)} onCancel={close} onSaved={() => { close(); reload() }} />
              )}
              {editing?.kind === 'deployment' && (
                <DeploymentEditor key={editing.deployment.id} routeId={editing.route.id} deployment={editing.deployment}
                  label={`${providerName.get(editing.deployment.provider_id) ?? editing.deployment.provider_id} → ${editing.deployment.upstream_model}`}
                  onCancel={close} onSaved={() => { close(); reload() }} />
              )}
              {!editing && <RouteForm models={models.items} providers={providers.items} onCreated={reload} />}
              <DataTable
                caption="Routes"
                rows={routes.items}
                rowKey={(r) => r.id}
                empty="No routes yet: requests for a model fail until it has one."
                columns={[
                  { header: 'Model', cell: (r) => <code>{r.model}</code> },
                  { header: 'Strategy', cell: (r) => r.strategy.replaceAll('_', ' ') },
                  {
                    header: 'Deployments',
                    cell: (r) => (
                      <ul className="plain">
                        {r.deployments.map((d) => (
                          <li key={d.id}>
                            {providerName.get(d.provider_id) ?? d.provider_id} → <code>{d.upstream_model}</code>{' '}
                            <span className="muted">{deploymentSummary(d)}</span>{' '}
                            <button type="button" className="button small secondary" onClick={() => setEditing({ kind: 'deployment', route: r, deployment: d })}
                              aria-label={`Edit deployment ${providerName.get(d.provider_id) ?? d.provider_id} ${d.upstream_model} of ${r.model}`}>Edit</button>
                          </li>
                        ))}
                      </ul>
                    ),
                  },
                  { header: 'Fallbacks', cell: (r) => (r.fallback_models.length ? r.fallback_models.join(', ') : '—') },
                  {
                    header: 'Actions',
                    cell: (r) => (
                      <button type="button" className="button small secondary" onClick={() => setEditing({ kind: 'route', route: r })} aria-label={`Edit route ${r.model}`}>Edit route</button>
                    ),
                  },
                ]}
              />
            </>
          )
        }}
      </AsyncView>
    </>
  )
}

/** A deployment's routing numbers in a few words. */
function deploymentSummary(d: Deployment): string {
  const parts = [`weight ${d.weight}`, `priority ${d.priority}`]
  if (d.rpm_limit) parts.push(`${d.rpm_limit.toLocaleString('en-US')} rpm`)
  if (d.tpm_limit) parts.push(`${d.tpm_limit.toLocaleString('en-US')} tpm`)
  if (!d.enabled) parts.push('out of service')
  return parts.join(', ')
}
