import type { Provider, ProviderUpdate } from '../../api/client'
import { useApi } from '../../api/context'
import { EditorActions } from '../../components/EditorActions'
import { Field, TextAreaField } from '../../components/Field'
import { hasErrors, pairsText, parsePairs } from './parse'
import { useEditForm, type Errors } from './useEditForm'

export type ProviderTexts = {
  base_url: string
  settings: string
  api_key: string
  credentials: string
}

/**
 * The PATCH body for the edited texts, or the errors by field. Credentials are write-only: left
 * empty they are not sent (the stored ones stay); typed, they replace every stored credential.
 */
export function providerChange(provider: Provider, texts: ProviderTexts, enabled: boolean): { change?: ProviderUpdate; errors: Errors } {
  const errors: Errors = {}
  const baseUrl = texts.base_url.trim()
  if (baseUrl && !/^https?:\/\/\S{4,}$/.test(baseUrl)) errors.base_url = 'The base URL starts with http:// or https://.'
  const settings = parsePairs(texts.settings, 'setting')
  errors.settings = settings.error
  const extra = parsePairs(texts.credentials, 'credential')
  errors.credentials = extra.error
  if (extra.value && Object.values(extra.value).some((v) => !v)) errors.credentials = 'A credential needs a value after the =.'
  if (hasErrors(errors) || !settings.value || !extra.value) return { errors }
  const change: ProviderUpdate = { settings: settings.value, enabled }
  if (baseUrl) change.base_url = baseUrl
  else if (provider.base_url) change.clear_base_url = true
  const credentials = { ...extra.value, ...(texts.api_key ? { api_key: texts.api_key } : {}) }
  if (Object.keys(credentials).length) change.credentials = credentials
  return { change, errors }
}

/** Change a provider's base URL, adapter settings, credentials (write-only) and enabled flag. */
export function ProviderEditor({ provider, onSaved, onCancel }: { provider: Provider; onSaved: () => void; onCancel: () => void }) {
  const api = useApi()
  const form = useEditForm<ProviderTexts, ProviderUpdate>(
    () => ({ base_url: provider.base_url ?? '', settings: pairsText(provider.settings), api_key: '', credentials: '' }),
    provider.enabled,
    (texts, enabled) => providerChange(provider, texts, enabled),
    (change) => api.updateProvider(provider.id, change),
    onSaved,
  )
  const { texts, set, errors } = form
  const stored = provider.has_credentials ? 'Credentials are stored; leave these empty to keep them.' : 'No credentials are stored.'
  return (
    <form className="card form-grid editor" onSubmit={form.submit} noValidate aria-label={`Edit provider ${provider.name}`}>
      <h2 className="form-title">Edit {provider.name} <code>{provider.type}</code></h2>
      <Field label="Base URL" value={texts.base_url} onChange={set('base_url')} error={errors.base_url} hint="Empty returns to the adapter's default endpoint." />
      <Field label="New API key" type="password" autoComplete="off" value={texts.api_key} onChange={set('api_key')} hint={stored} />
      <TextAreaField label="Settings" value={texts.settings} onChange={set('settings')} error={errors.settings}
        hint="One name=value per line, e.g. api_version=2024-10-21 or region=us-east-1." />
      <TextAreaField label="Other new credentials" autoComplete="off" spellCheck={false} value={texts.credentials} onChange={set('credentials')} error={errors.credentials}
        hint="Write-only, one name=value per line (e.g. secret_access_key=…). Anything typed here or above replaces all stored credentials." />
      <label className="checkbox">
        <input type="checkbox" checked={form.enabled} onChange={(e) => form.setEnabled(e.target.checked)} /> Enabled (the proxy may call it)
      </label>
      <EditorActions busy={form.busy} failure={form.failure} saveLabel="Save provider" onCancel={onCancel} />
    </form>
  )
}
