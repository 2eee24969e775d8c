import { useState, type FormEvent } from 'react'
import { useApi } from '../api/context'
import { DataTable } from '../components/DataTable'
import { Field, FormError } from '../components/Field'
import { AsyncView } from '../components/States'
import { Stat } from '../components/Stat'
import { useAsync } from '../components/useAsync'
import { formatMicroUsd, formatNumber } from '../format'
import { addDays, browserTimeZone, dayIn, zonedMidnight } from '../usage/time'

/** My usage: the totals of my keys over a range of days in my timezone, and per key. */
export function MyUsagePage() {
  const api = useApi()
  const timeZone = browserTimeZone()
  const today = dayIn(new Date(), timeZone)
  const [draft, setDraft] = useState({ from: addDays(today, -29), to: today })
  const [range, setRange] = useState(draft)
  const [problem, setProblem] = useState<string | null>(null)
  const [state, reload] = useAsync(
    () =>
      api.myUsage({
        start: zonedMidnight(range.from, timeZone).toISOString(),
        end: zonedMidnight(addDays(range.to, 1), timeZone).toISOString(),
        timezone: timeZone,
      }),
    [api, range, timeZone],
  )

  function apply(event: FormEvent) {
    event.preventDefault()
    const found = !draft.from || !draft.to ? 'Choose both a start and an end day.' : draft.from > draft.to ? 'The start day must not be after the end day.' : null
    setProblem(found)
    if (!found) setRange({ ...draft })
  }

  return (
    <>
      <header className="page-header">
        <h1>My usage</h1>
        <p>What your keys used, by day in your timezone ({timeZone}).</p>
      </header>
      <form className="card form-inline" onSubmit={apply} noValidate aria-label="Date range">
        <Field label="From" type="date" value={draft.from} max={today} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        <Field label="To" type="date" value={draft.to} max={today} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        <button className="button primary" type="submit">Show</button>
        <FormError message={problem} />
      </form>
      <AsyncView state={state} onRetry={reload}>
        {({ total, keys }) => (
          <>
            <section className="stats" aria-label="My totals">
              <Stat label="Requests" value={formatNumber(total.requests)} />
              <Stat label="Tokens" value={formatNumber(total.prompt_tokens + total.completion_tokens)} />
              <Stat label="Spend" value={formatMicroUsd(total.cost_micro_usd)} />
              <Stat label="Errors" value={formatNumber(total.errors)} />
            </section>
            <DataTable
              caption="Usage per key"
              rows={keys}
              rowKey={(k) => k.key_id}
              empty="You have no keys yet: create one on the My keys page."
              columns={[
                { header: 'Key', cell: (k) => k.name },
                { header: 'Requests', cell: (k) => formatNumber(k.usage.requests), numeric: true },
                { header: 'Prompt tokens', cell: (k) => formatNumber(k.usage.prompt_tokens), numeric: true },
                { header: 'Completion tokens', cell: (k) => formatNumber(k.usage.completion_tokens), numeric: true },
                { header: 'Errors', cell: (k) => formatNumber(k.usage.errors), numeric: true },
                { header: 'Spend', cell: (k) => formatMicroUsd(k.usage.cost_micro_usd), numeric: true },
              ]}
            />
          </>
        )}
      </AsyncView>
    </>
  )
}
