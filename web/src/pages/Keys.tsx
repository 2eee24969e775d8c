import { useApi } from '../api/context'
import { TenantHeader, useTenantName } from '../components/TenantHeader'
import { useAsync } from '../components/useAsync'
import { KeyManager } from './keys/KeyManager'

export function KeysPage({ tenantId }: { tenantId: string }) {
  const api = useApi()
  const tenantName = useTenantName(tenantId)
  const [state, reload] = useAsync(() => api.listApiKeys(tenantId), [api, tenantId])

  return (
    <>
      <TenantHeader tenantId={tenantId} tenantName={tenantName} page="keys" title={`API keys of ${tenantName}`}>
        Keys authenticate calls to the proxy. Only the prefix and last four characters are kept.
      </TenantHeader>
      <KeyManager
        caption={`API keys of ${tenantName}`}
        state={state}
        reload={reload}
        create={(body) => api.createApiKey(tenantId, body)}
        revoke={(key) => api.revokeApiKey(key.id)}
        empty="This tenant has no keys yet."
      />
    </>
  )
}
