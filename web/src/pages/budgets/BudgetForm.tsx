import { useMemo, useState, type FormEvent } from 'react'
import type { ApiKey, Budget } from '../../api/client'
import { useApi } from '../../api/context'
import { Field, FormError, SelectField } from '../../components/Field'
import { useSubmit } from '../../components/useSubmit'
import { browserTimeZone, timeZoneChoices } from '../../usage/time'
import { budgetRequest, PERIODS, type BudgetDraft, type Period } from './budgetForm'

const EMPTY: BudgetDraft = { keyId: '', limitUsd: '', period: 'monthly', rollingDays: '30', timeZone: browserTimeZone(), hard: true, thresholds: '50, 80, 100' }

/** A new budget on the tenant or one of its keys. */
export function BudgetForm({ tenantId, keys, onCreated }: { tenantId: string; keys: ApiKey[]; onCreated: (budget: Budget) => void }) {
  const api = useApi()
  const [draft, setDraft] = useState(EMPTY)
  const [errors, setErrors] = useState<Partial<Record<keyof BudgetDraft, string>>>({})
  const { busy, failure, run } = useSubmit()
  const zones = useMemo(timeZoneChoices, [])
  const set = <K extends keyof BudgetDraft>(field: K) => (value: BudgetDraft[K]) => setDraft((d) => ({ ...d, [field]: value }))

  async function submit(event: FormEvent) {
    event.preventDefault()
    const request = budgetRequest(draft)
    setErrors('errors' in request ? request.errors : {})
    if ('errors' in request) return
    await run(async () => {
      onCreated(await api.createBudget(tenantId, request.body))
      setDraft(EMPTY)
    })
  }

  return (
    <form className="card form-grid" onSubmit={submit} noValidate aria-label="Create a budget">
      <h2 className="form-title">New budget</h2>
      <SelectField label="Applies to" value={draft.keyId} onChange={set('keyId')}
        options={[{ value: '', label: 'The whole tenant' }, ...keys.filter((k) => !k.revoked_at).map((k) => ({ value: k.id, label: `Key ${k.name}` }))]} />
      <Field label="Limit (USD)" inputMode="decimal" value={draft.limitUsd} onChange={(e) => set('limitUsd')(e.target.value)} error={errors.limitUsd} placeholder="250" />
      <SelectField label="Period" value={draft.period} onChange={(v) => set('period')(v as Period)} options={PERIODS} />
      {draft.period === 'rolling' && (
        <Field label="Rolling days" inputMode="numeric" value={draft.rollingDays} onChange={(e) => set('rollingDays')(e.target.value)} error={errors.rollingDays} />
      )}
      <SelectField label="Budget timezone" value={draft.timeZone} onChange={set('timeZone')} options={zones.map((z) => ({ value: z, label: z }))} />
      <Field label="Alert thresholds (%)" value={draft.thresholds} onChange={(e) => set('thresholds')(e.target.value)} error={errors.thresholds}
        hint="An alert goes to the tenant's channels at each percentage of the limit." />
      <label className="checkbox">
        <input type="checkbox" checked={draft.hard} onChange={(e) => set('hard')(e.target.checked)} /> Hard limit (refuse requests once spent)
      </label>
      <div className="form-actions">
        <button className="button primary" type="submit" disabled={busy}>{busy ? 'Creating…' : 'Create budget'}</button>
        <FormError message={failure} />
      </div>
    </form>
  )
}
