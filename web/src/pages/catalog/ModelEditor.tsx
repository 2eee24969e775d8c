import type { Model, ModelUpdate } from '../../api/client'
import { useApi } from '../../api/context'
import { EditorActions } from '../../components/EditorActions'
import { Field } from '../../components/Field'
import { usdToMicro } from '../../format'
import { hasErrors, microToUsdText, parseCapabilities, parseWhole } from './parse'
import { useEditForm, type Errors } from './useEditForm'

function textsOf(model: Model) {
  const p = model.pricing
  return {
    owned_by: model.owned_by,
    context: model.context_window?.toString() ?? '',
    capabilities: model.capabilities.join(', '),
    input: microToUsdText(p.input_micro_usd_per_mtok),
    output: microToUsdText(p.output_micro_usd_per_mtok),
    cached: microToUsdText(p.cached_input_micro_usd_per_mtok),
    reasoning: microToUsdText(p.reasoning_micro_usd_per_mtok),
  }
}

type Texts = ReturnType<typeof textsOf>

/** The PATCH body for the edited texts, or the errors by field. */
export function modelChange(texts: Texts, enabled: boolean): { change?: ModelUpdate; errors: Errors } {
  const errors: Errors = {}
  const price = (text: string, field: keyof Texts, optional: boolean) => {
    if (optional && !text.trim()) return null
    const micro = usdToMicro(text)
    if (micro === null) errors[field] = 'Enter a price in USD per million tokens, e.g. 0.15 (up to 6 decimals).'
    return micro
  }
  const input = price(texts.input, 'input', false)
  const output = price(texts.output, 'output', false)
  const cached = price(texts.cached, 'cached', true)
  const reasoning = price(texts.reasoning, 'reasoning', true)
  const context = parseWhole(texts.context, 'The context window', 1, 100_000_000)
  errors.context = context.error
  const capabilities = parseCapabilities(texts.capabilities)
  errors.capabilities = capabilities.error
  if (!texts.owned_by.trim()) errors.owned_by = 'Say who publishes the model, e.g. openai.'
  if (hasErrors(errors) || input === null || output === null) return { errors }
  const change: ModelUpdate = {
    owned_by: texts.owned_by.trim(),
    capabilities: capabilities.value,
    enabled,
    pricing: {
      input_micro_usd_per_mtok: input,
      output_micro_usd_per_mtok: output,
      cached_input_micro_usd_per_mtok: cached,
      reasoning_micro_usd_per_mtok: reasoning,
    },
  }
  // Control cannot unset a context window; empty leaves it as it is.
  if (context.value !== null && context.value !== undefined) change.context_window = context.value
  return { change, errors }
}

/** Change a model's prices, context window, capabilities, publisher and enabled flag. */
export function ModelEditor({ model, onSaved, onCancel }: { model: Model; onSaved: () => void; onCancel: () => void }) {
  const api = useApi()
  const form = useEditForm(() => textsOf(model), model.enabled, modelChange, (change) => api.updateModel(model.id, change), onSaved)
  const { texts, set, errors } = form
  return (
    <form className="card form-grid editor" onSubmit={form.submit} noValidate aria-label={`Edit model ${model.name}`}>
      <h2 className="form-title">Edit <code>{model.name}</code></h2>
      <Field label="Input price (USD / 1M tokens)" inputMode="decimal" value={texts.input} onChange={set('input')} error={errors.input} />
      <Field label="Output price (USD / 1M tokens)" inputMode="decimal" value={texts.output} onChange={set('output')} error={errors.output} />
      <Field label="Cached input price (USD / 1M tokens)" inputMode="decimal" value={texts.cached} onChange={set('cached')} error={errors.cached}
        hint="Optional; empty bills cached tokens at the input price." />
      <Field label="Reasoning price (USD / 1M tokens)" inputMode="decimal" value={texts.reasoning} onChange={set('reasoning')} error={errors.reasoning}
        hint="Optional; empty bills reasoning tokens at the output price." />
      <Field label="Context window (tokens)" inputMode="numeric" value={texts.context} onChange={set('context')} error={errors.context} />
      <Field label="Capabilities" value={texts.capabilities} onChange={set('capabilities')} error={errors.capabilities} hint="Comma-separated, e.g. vision, tools." />
      <Field label="Owned by" value={texts.owned_by} onChange={set('owned_by')} error={errors.owned_by} />
      <label className="checkbox">
        <input type="checkbox" checked={form.enabled} onChange={(e) => form.setEnabled(e.target.checked)} /> Enabled (clients may ask for it)
      </label>
      <EditorActions busy={form.busy} failure={form.failure} saveLabel="Save model" onCancel={onCancel} />
    </form>
  )
}
