import { useState } from 'react'
import type { DeploymentHealth } from '../api/client'
import { useApi } from '../api/context'
import { DataTable } from '../components/DataTable'
import { ErrorNotice, Loading } from '../components/States'
import { Stat } from '../components/Stat'
import { usePolling } from '../components/usePolling'
import { formatDate } from '../format'

const REFRESH_MS = 10_000

/** The probe history as a row of dots, oldest first, each saying what happened. */
function ProbeDots({ deployment }: { deployment: DeploymentHealth }) {
  if (!deployment.recent.length) return <span className="muted">no probes yet</span>
  return (
    <span className="probes" role="img" aria-label={`${deployment.recent.filter((p) => p.ok).length} of ${deployment.recent.length} recent probes passed`}>
      {deployment.recent.map((probe, i) => (
        <span key={i} className={`probe ${probe.ok ? 'probe-ok' : 'probe-fail'}`}
          title={`${formatDate(probe.at)}: ${probe.ok ? 'ok' : probe.error ?? `HTTP ${probe.status_code ?? '—'}`} in ${probe.latency_ms} ms`} />
      ))}
    </span>
  )
}

/** Every deployment's health from the health service's active probes, refreshed while open. */
export function HealthPage() {
  const api = useApi()
  const [live, setLive] = useState(true)
  const { data, error, updatedAt, refresh } = usePolling(() => api.listDeploymentHealth(), REFRESH_MS, live)
  const items = data?.items ?? []
  const count = (status: DeploymentHealth['status']) => String(items.filter((d) => d.status === status).length)

  return (
    <>
      <header className="page-header page-header-row">
        <div>
          <h1>Provider health</h1>
          <p>Each deployment as the health service's probes see it. Unhealthy ones are skipped by routing until their cooldown ends.</p>
        </div>
        <div className="actions">
          <label className="checkbox">
            <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} /> Live (every {REFRESH_MS / 1000} s)
          </label>
          <button type="button" className="button secondary" onClick={refresh}>Refresh now</button>
        </div>
      </header>
      {updatedAt && <p className="hint">Updated {updatedAt.toLocaleTimeString()}</p>}
      {error && <ErrorNotice error={error} onRetry={refresh} />}
      {data === null ? (
        !error && <Loading />
      ) : (
        <>
          <section className="stats" aria-label="Health summary">
            <Stat label="Healthy" value={count('healthy')} />
            <Stat label="Unhealthy" value={count('unhealthy')} />
            <Stat label="Not probed yet" value={count('unknown')} />
          </section>
          <DataTable
            caption="Deployment health"
            rows={items}
            rowKey={(d) => d.deployment_id}
            empty="No deployments yet: add a route to a provider first."
            columns={[
              { header: 'Model', cell: (d) => d.model },
              { header: 'Provider', cell: (d) => <>{d.provider} <span className="muted">{d.provider_type}</span></> },
              { header: 'Upstream model', cell: (d) => <code>{d.upstream_model}</code> },
              { header: 'Priority', cell: (d) => d.priority, numeric: true },
              { header: 'Status', cell: (d) => <span className={`badge badge-health-${d.status}`}>{d.status}</span> },
              { header: 'Recent probes', cell: (d) => <ProbeDots deployment={d} /> },
              { header: 'Checked', cell: (d) => formatDate(d.checked_at) },
              { header: 'In service', cell: (d) => (d.in_service ? 'yes' : 'no') },
            ]}
          />
        </>
      )}
    </>
  )
}
