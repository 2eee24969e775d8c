import type { Deployment, DeploymentUpdate } from '../../api/client'
import { useApi } from '../../api/context'
import { EditorActions } from '../../components/EditorActions'
import { Field } from '../../components/Field'
import { usdToMicro } from '../../format'
import { hasErrors, microToUsdText, parseWhole } from './parse'
import { useEditForm, type Errors } from './useEditForm'

export function deploymentTexts(d: Deployment) {
  return {
    weight: String(d.weight),
    priority: String(d.priority),
    rpm: d.rpm_limit?.toString() ?? '',
    tpm: d.tpm_limit?.toString() ?? '',
    input: microToUsdText(d.cost?.input_micro_usd_per_mtok),
    output: microToUsdText(d.cost?.output_micro_usd_per_mtok),
    cached: microToUsdText(d.cost?.cached_input_micro_usd_per_mtok),
  }
}

export type DeploymentTexts = ReturnType<typeof deploymentTexts>

/**
 * The PATCH body for the edited texts, or the errors by field. An emptied cap is sent as 0 (control
 * removes it); emptied cost prices clear the cost (used by the lowest-cost strategy only).
 */
export function deploymentChange(d: Deployment, t: DeploymentTexts, enabled: boolean): { change?: DeploymentUpdate; errors: Errors } {
  const errors: Errors = {}
  const weight = parseWhole(t.weight, 'The weight', 0, 10_000)
  const priority = parseWhole(t.priority, 'The priority', 0, 1_000)
  const rpm = parseWhole(t.rpm, 'Requests per minute', 1, 2 ** 31 - 1)
  const tpm = parseWhole(t.tpm, 'Tokens per minute', 1, 2 ** 53)
  Object.assign(errors, { weight: weight.error, priority: priority.error, rpm: rpm.error, tpm: tpm.error })
  if (!t.weight.trim()) errors.weight = 'The weight is a whole number from 0 (no traffic) to 10,000.'
  if (!t.priority.trim()) errors.priority = 'The priority is a whole number from 0 (first) to 1,000.'
  const anyCost = [t.input, t.output, t.cached].some((x) => x.trim())
  const input = anyCost ? usdToMicro(t.input) : null
  const output = anyCost ? usdToMicro(t.output) : null
  const cached = t.cached.trim() ? usdToMicro(t.cached) : null
  if (anyCost && input === null) errors.input = 'Enter the input cost in USD per million tokens.'
  if (anyCost && output === null) errors.output = 'Enter the output cost in USD per million tokens.'
  if (t.cached.trim() && cached === null) errors.cached = 'Enter the cached input cost in USD per million tokens, or leave it empty.'
  if (hasErrors(errors)) return { errors }
  const change: DeploymentUpdate = { weight: weight.value, priority: priority.value, enabled, rpm_limit: rpm.value ?? 0, tpm_limit: tpm.value ?? 0 }
  if (input !== null && output !== null) {
    change.cost = { input_micro_usd_per_mtok: input, output_micro_usd_per_mtok: output, cached_input_micro_usd_per_mtok: cached }
  } else if (d.cost) change.clear_cost = true
  return { change, errors }
}

/** Change a deployment's weight, priority, the provider account's caps, its cost and enabled flag. */
export function DeploymentEditor({ routeId, deployment, label, onSaved, onCancel }: {
  routeId: string
  deployment: Deployment
  label: string
  onSaved: () => void
  onCancel: () => void
}) {
  const api = useApi()
  const form = useEditForm(
    () => deploymentTexts(deployment),
    deployment.enabled,
    (texts, enabled) => deploymentChange(deployment, texts, enabled),
    (change) => api.updateDeployment(routeId, deployment.id, change),
    onSaved,
  )
  const { texts, set, errors } = form
  return (
    <form className="card form-grid editor" onSubmit={form.submit} noValidate aria-label={`Edit deployment ${label}`}>
      <h2 className="form-title">Edit deployment {label}</h2>
      <Field label="Weight" inputMode="numeric" value={texts.weight} onChange={set('weight')} error={errors.weight} hint="Share of traffic among deployments of the same priority." />
      <Field label="Priority" inputMode="numeric" value={texts.priority} onChange={set('priority')} error={errors.priority} hint="0 is tried first; higher numbers are fallbacks." />
      <Field label="Requests per minute cap" inputMode="numeric" value={texts.rpm} onChange={set('rpm')} error={errors.rpm} hint="The provider account's limit; empty for none." />
      <Field label="Tokens per minute cap" inputMode="numeric" value={texts.tpm} onChange={set('tpm')} error={errors.tpm} hint="Empty for none." />
      <Field label="Cost: input (USD / 1M tokens)" inputMode="decimal" value={texts.input} onChange={set('input')} error={errors.input} hint="What the provider charges you (used by the lowest-cost strategy only); empty for unknown." />
      <Field label="Cost: output (USD / 1M tokens)" inputMode="decimal" value={texts.output} onChange={set('output')} error={errors.output} />
      <Field label="Cost: cached input (USD / 1M tokens)" inputMode="decimal" value={texts.cached} onChange={set('cached')} error={errors.cached} />
      <label className="checkbox">
        <input type="checkbox" checked={form.enabled} onChange={(e) => form.setEnabled(e.target.checked)} /> In service
      </label>
      <EditorActions busy={form.busy} failure={form.failure} saveLabel="Save deployment" onCancel={onCancel} />
    </form>
  )
}
