import { useApi } from '../api/context'
import { AsyncView } from '../components/States'
import { useAsync } from '../components/useAsync'
import { ModelListForm } from './catalog/ModelListForm'

/** Platform settings: the models every personal tenant may use. */
export function SettingsPage() {
  const api = useApi()
  const [state, reload] = useAsync(() => Promise.all([api.getDefaultModelEntitlements(), api.listModels()]), [api])
  return (
    <>
      <header className="page-header">
        <h1>Settings</h1>
        <p>Platform-wide defaults. Changing them applies at once to every personal tenant and its keys.</p>
      </header>
      <AsyncView state={state} onRetry={reload}>
        {([defaults, models]) => (
          <ModelListForm
            title="Default model entitlements"
            label="Models personal tenants may use"
            initial={defaults.models}
            known={models.items.map((m) => m.name)}
            saveLabel="Save entitlements"
            save={(list) => api.setDefaultModelEntitlements(list)}
          />
        )}
      </AsyncView>
      <p className="card notice">
        Rate-limit defaults (for keys and tenants without their own limits) are proxy settings —{' '}
        <code>DEFAULT_KEY_RPM</code>, <code>DEFAULT_KEY_TPM</code>, <code>DEFAULT_KEY_MAX_PARALLEL</code> and the{' '}
        <code>DEFAULT_TENANT_*</code> ones (see docs/configuration.md) — and cannot be changed here yet. A key's own limits are
        edited on its tenant's keys page; a provider account's caps on <a href="#/routes">Routes</a>.
      </p>
    </>
  )
}
