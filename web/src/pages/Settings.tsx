import { useApi } from '../api/context'
import { AsyncView } from '../components/States'
import { useAsync } from '../components/useAsync'
import { ModelListForm } from './catalog/ModelListForm'
import { RateLimitDefaultsForm } from './settings/RateLimitDefaultsForm'

/** Platform settings: the models every personal tenant may use, and the rate-limit defaults. */
export function SettingsPage() {
  const api = useApi()
  const [state, reload] = useAsync(
    () => Promise.all([api.getDefaultModelEntitlements(), api.listModels(), api.getRateLimitDefaults()]),
    [api],
  )
  return (
    <>
      <header className="page-header">
        <h1>Settings</h1>
        <p>Platform-wide defaults. Changing them applies at once to every personal tenant, key and proxy.</p>
      </header>
      <AsyncView state={state} onRetry={reload}>
        {([defaults, models, limits]) => (
          <>
          <ModelListForm
            title="Default model entitlements"
            label="Models personal tenants may use"
            initial={defaults.models}
            known={models.items.map((m) => m.name)}
            saveLabel="Save entitlements"
            save={(list) => api.setDefaultModelEntitlements(list)}
          />
          <RateLimitDefaultsForm initial={limits} save={(body) => api.setRateLimitDefaults(body)} />
          </>
        )}
      </AsyncView>
      <p className="card notice">
        A rate-limit default set here overrides the proxy's own setting for that field (<code>DEFAULT_KEY_RPM</code>,{' '}
        <code>DEFAULT_TENANT_*</code> and the others, see docs/configuration.md). A key's own limits are edited on its
        tenant's keys page, a tenant's on <a href="#/tenants">Tenants</a>, a provider account's caps on{' '}
        <a href="#/routes">Routes</a>.
      </p>
    </>
  )
}
