import { useState } from 'react'
import { useApi } from '../api/context'
import { SelectField } from '../components/Field'
import { useAsync } from '../components/useAsync'
import { tenantLabel } from '../format'
import { KeyManager } from './keys/KeyManager'

/** My own keys, in my personal tenant or any tenant I belong to (control's /user API). */
export function MyKeysPage() {
  const api = useApi()
  const [state, reload] = useAsync(() => api.listMyApiKeys(), [api])
  const [tenants] = useAsync(() => api.listMyTenants(), [api])
  const [tenantId, setTenantId] = useState('')
  const options = tenants.status === 'ready'
    ? tenants.data.items.map((t) => ({ value: t.is_personal ? '' : t.id, label: tenantLabel(t) }))
    : [{ value: '', label: tenantLabel({ name: '', is_personal: true }) }]

  return (
    <>
      <header className="page-header">
        <h1>My API keys</h1>
        <p>Keys you own. Use one as the API key of the OpenAI SDK, with the gateway as its base URL.</p>
      </header>
      <KeyManager
        caption="My API keys"
        state={state}
        reload={reload}
        create={(body) => api.createMyApiKey({ ...body, tenant_id: tenantId || null })}
        revoke={(key) => api.revokeMyApiKey(key.id)}
        formFields={<SelectField label="Tenant" value={tenantId} onChange={setTenantId} options={options} />}
        empty="You have no keys yet. Create one above."
      />
    </>
  )
}
