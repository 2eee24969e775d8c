// The typed client of control's admin API. Types come from schema.gen.d.ts (generated from
// web/openapi.json); this file only adds transport: the bearer token, JSON and errors.
import type { components, operations } from './schema.gen'

export type Schemas = components['schemas']
export type Tenant = Schemas['Tenant']
export type ApiKey = Schemas['ApiKey']
export type CreatedApiKey = Schemas['CreatedApiKey']
export type Model = Schemas['Model']
export type ModelCreate = Schemas['ModelCreate']
export type Provider = Schemas['Provider']
export type ProviderCreate = Schemas['ProviderCreate']
export type Route = Schemas['Route']
export type RouteCreate = Schemas['RouteCreate']
export type UsageSummary = Schemas['UsageSummary']
export type AuditEntry = Schemas['AuditEntry']
export type AuditPage = Schemas['AuditPage']
export type ApiKeyCreate = Schemas['ApiKeyCreate']
export type UsageQuery = NonNullable<operations['getUsageSummary']['parameters']['query']>
export type AuditQuery = NonNullable<operations['listAuditEntries']['parameters']['query']>

/** An error answer of control: `{"error": {"code", "message", "details", "request_id"}}`. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly requestId: string | null

  constructor(status: number, code: string, message: string, requestId: string | null) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.requestId = requestId
  }
}

type Query = Record<string, string | number | boolean | null | undefined>

export interface ClientOptions {
  baseUrl?: string
  fetch?: typeof fetch
  /** Called when control answers 401 to an authenticated call (token missing or expired). */
  onUnauthorized?: () => void
}

export class ApiClient {
  private token: string | null = null
  private readonly baseUrl: string
  private readonly fetchFn: typeof fetch
  private readonly onUnauthorized: () => void

  constructor(options: ClientOptions = {}) {
    this.baseUrl = options.baseUrl ?? ''
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init))
    this.onUnauthorized = options.onUnauthorized ?? (() => {})
  }

  get signedIn(): boolean {
    return this.token !== null
  }

  signOut(): void {
    this.token = null
  }

  async login(email: string, password: string): Promise<void> {
    const body = await this.request<Schemas['AccessTokenResponse']>('POST', '/api/v1/auth/login', {
      body: { email, password },
      anonymous: true,
    })
    this.token = body.access_token
  }

  listTenants(query: { limit?: number; offset?: number } = {}) {
    return this.request<Schemas['TenantPage']>('GET', '/api/v1/tenants', { query })
  }
  createTenant(name: string) {
    return this.request<Tenant>('POST', '/api/v1/tenants', { body: { name } })
  }
  setTenantStatus(tenantId: string, status: 'active' | 'suspended') {
    return this.request<Tenant>('PATCH', `/api/v1/tenants/${enc(tenantId)}`, { body: { status } })
  }
  listApiKeys(tenantId: string) {
    return this.request<Schemas['ApiKeyPage']>('GET', `/api/v1/tenants/${enc(tenantId)}/keys`, {
      query: { limit: 200 },
    })
  }
  createApiKey(tenantId: string, body: ApiKeyCreate) {
    return this.request<CreatedApiKey>('POST', `/api/v1/tenants/${enc(tenantId)}/keys`, { body })
  }
  revokeApiKey(keyId: string) {
    return this.request<ApiKey>('POST', `/api/v1/keys/${enc(keyId)}/revoke`, {})
  }
  listModels() {
    return this.request<Schemas['ModelList']>('GET', '/api/v1/models', {})
  }
  createModel(body: ModelCreate) {
    return this.request<Model>('POST', '/api/v1/models', { body })
  }
  listProviders() {
    return this.request<Schemas['ProviderList']>('GET', '/api/v1/providers', {})
  }
  createProvider(body: ProviderCreate) {
    return this.request<Provider>('POST', '/api/v1/providers', { body })
  }
  listRoutes() {
    return this.request<Schemas['RouteList']>('GET', '/api/v1/routes', {})
  }
  createRoute(body: RouteCreate) {
    return this.request<Route>('POST', '/api/v1/routes', { body })
  }
  usageSummary(query: UsageQuery) {
    return this.request<UsageSummary>('GET', '/api/v1/usage/summary', { query })
  }
  listAudit(query: AuditQuery) {
    return this.request<AuditPage>('GET', '/api/v1/audit', { query })
  }

  private async request<T>(
    method: string,
    path: string,
    options: { body?: unknown; query?: Query; anonymous?: boolean },
  ): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (options.body !== undefined) headers['Content-Type'] = 'application/json'
    if (!options.anonymous && this.token) headers.Authorization = `Bearer ${this.token}`
    let response: Response
    try {
      response = await this.fetchFn(this.baseUrl + path + queryString(options.query), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        credentials: 'same-origin',
      })
    } catch {
      throw new ApiError(0, 'network_error', 'The control API could not be reached.', null)
    }
    if (response.status === 401 && !options.anonymous) {
      this.token = null
      this.onUnauthorized()
    }
    if (!response.ok) throw await toApiError(response)
    if (response.status === 204) return undefined as T
    return (await response.json()) as T
  }
}

function enc(id: string): string {
  return encodeURIComponent(id)
}

function queryString(query: Query | undefined): string {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value))
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}

async function toApiError(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`
  let message = `Request failed with status ${response.status}.`
  let requestId: string | null = response.headers.get('x-request-id')
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string; request_id?: string } }
    if (body.error) {
      code = body.error.code ?? code
      message = body.error.message ?? message
      requestId = body.error.request_id ?? requestId
    }
  } catch {
    // Not JSON (a proxy in between, an HTML error page): keep the generic message.
  }
  return new ApiError(response.status, code, message, requestId)
}
