import { useState, type FormEvent } from 'react'
import { useApi } from '../api/context'
import type { AuditEntry, AuditQuery } from '../api/client'
import { DataTable } from '../components/DataTable'
import { Field, FormError } from '../components/Field'
import { AsyncView } from '../components/States'
import { useAsync } from '../components/useAsync'
import { formatDate } from '../format'

const EMPTY = { actor_email: '', action: '', target_type: '', since: '', until: '' }

export function AuditPage() {
  const api = useApi()
  const [draft, setDraft] = useState(EMPTY)
  const [filters, setFilters] = useState<AuditQuery>({ limit: 50 })
  const [older, setOlder] = useState<AuditEntry[]>([])
  const [cursor, setCursor] = useState<number | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [state, reload] = useAsync(async () => {
    const page = await api.listAudit(filters)
    setOlder([])
    setCursor(page.next_before_id ?? null)
    return page
  }, [api, filters])
  const set = (field: keyof typeof EMPTY) => (e: { target: { value: string } }) => setDraft({ ...draft, [field]: e.target.value })

  function apply(event: FormEvent) {
    event.preventDefault()
    if (draft.since && draft.until && draft.since > draft.until) return setError('“Since” must be before “until”.')
    if (draft.action && /\s/.test(draft.action)) return setError('An action has no spaces, e.g. tenant.create or key. for every key action.')
    setError(null)
    setFilters({
      limit: 50,
      actor_email: draft.actor_email.trim() || undefined,
      action: draft.action.trim() || undefined,
      target_type: draft.target_type.trim() || undefined,
      since: draft.since ? new Date(draft.since).toISOString() : undefined,
      until: draft.until ? new Date(draft.until).toISOString() : undefined,
    })
  }

  async function loadOlder() {
    if (cursor === null) return
    try {
      const page = await api.listAudit({ ...filters, before_id: cursor })
      setOlder((rows) => [...rows, ...page.items])
      setCursor(page.next_before_id ?? null)
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
    }
  }

  return (
    <>
      <header className="page-header">
        <h1>Audit log</h1>
        <p>Every change and sign-in, newest first. Entries cannot be edited or deleted.</p>
      </header>
      <form className="card form-grid" onSubmit={apply} noValidate aria-label="Audit filters">
        <Field label="Actor email" value={draft.actor_email} onChange={set('actor_email')} />
        <Field label="Action" value={draft.action} onChange={set('action')} hint="Exact, or a prefix ending in “.”" placeholder="tenant." />
        <Field label="Target type" value={draft.target_type} onChange={set('target_type')} placeholder="api_key" />
        <Field label="Since" type="datetime-local" value={draft.since} onChange={set('since')} />
        <Field label="Until" type="datetime-local" value={draft.until} onChange={set('until')} />
        <div className="form-actions">
          <button className="button primary" type="submit">Filter</button>
          <button className="button secondary" type="button" onClick={() => { setDraft(EMPTY); setFilters({ limit: 50 }) }}>Clear</button>
          <FormError message={error} />
        </div>
      </form>
      <AsyncView state={state} onRetry={reload}>
        {(page) => (
          <>
            <DataTable
              caption="Audit entries"
              rows={[...page.items, ...older]}
              rowKey={(e) => String(e.id)}
              empty="No audit entries match these filters."
              columns={[
                { header: 'When', cell: (e) => formatDate(e.at) },
                { header: 'Actor', cell: (e) => e.actor_email ?? 'system' },
                { header: 'Action', cell: (e) => <code>{e.action}</code> },
                { header: 'Target', cell: (e) => `${e.target_type}${e.target_id ? ` ${e.target_id.slice(0, 8)}` : ''}` },
                { header: 'IP', cell: (e) => e.ip ?? '—' },
              ]}
            />
            {cursor !== null && (
              <button type="button" className="button secondary" onClick={loadOlder}>Load older entries</button>
            )}
          </>
        )}
      </AsyncView>
    </>
  )
}
