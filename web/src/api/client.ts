// The typed client of control's admin API. Types come from schema.gen.d.ts (generated from
// web/openapi.json); this file only adds transport: the bearer token, the refresh-cookie
// session (silent refresh on 401, CSRF header), JSON and errors.
import type { components, operations } from './schema.gen'

export type Schemas = components['schemas']
export type SsoProvider = Schemas['SsoProvider']
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
export type BreakdownQuery = operations['getUsageBreakdown']['parameters']['query']
export type GroupBy = BreakdownQuery['group_by']
export type UsageBreakdown = Schemas['UsageBreakdown']
export type UsageGroup = Schemas['UsageGroup']
export type RequestLogQuery = NonNullable<operations['listUsageRequests']['parameters']['query']>
export type UsageRequest = Schemas['UsageRequest']
export type AuditQuery = NonNullable<operations['listAuditEntries']['parameters']['query']>
export type User = Schemas['User']
export type UserCreate = Schemas['UserCreate']
export type UserUpdate = Schemas['UserUpdate']
export type Member = Schemas['Member']
export type TenantRole = Member['role']
export type ApiKeyUpdate = Schemas['ApiKeyUpdate']
export type MyApiKeyCreate = Schemas['MyApiKeyCreate']
export type MyTenant = Schemas['MyTenant']
export type MyUsage = Schemas['MyUsage']
export type Budget = Schemas['Budget']
export type BudgetCreate = Schemas['BudgetCreate']
export type AlertChannel = Schemas['AlertChannel']
export type AlertChannelCreate = Schemas['AlertChannelCreate']
export type BudgetAlert = Schemas['BudgetAlert']
export type DeploymentHealth = Schemas['DeploymentHealth']
export type AlertChannelTestResult = Schemas['AlertChannelTestResult']
export type ModelUpdate = Schemas['ModelUpdate']
export type ProviderUpdate = Schemas['ProviderUpdate']
export type RouteUpdate = Schemas['RouteUpdate']
export type Deployment = Schemas['Deployment']
export type DeploymentUpdate = Schemas['DeploymentUpdate']
export type TenantUpdate = Schemas['TenantUpdate']
export type RateLimitDefaults = Schemas['RateLimitDefaults']
export type RateLimitSet = Schemas['RateLimitSet']

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
  /** Called when control answers 401 to an authenticated call and the session cannot be refreshed. */
  onUnauthorized?: () => void
  /** The value of the csrf cookie (read from document.cookie unless given). */
  csrfToken?: () => string | null
}

const CSRF_COOKIE = 'omg_csrf'

/** The csrf cookie control sets at sign-in; refresh and logout must echo it in X-CSRF-Token. */
export function readCookie(name: string, cookies: string = typeof document === 'undefined' ? '' : document.cookie): string | null {
  for (const part of cookies.split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) return decodeURIComponent(rest.join('=')) || null
  }
  return null
}

export class ApiClient {
  private token: string | null = null
  private readonly baseUrl: string
  private readonly fetchFn: typeof fetch
  private readonly onUnauthorized: () => void
  private readonly csrfToken: () => string | null
  private refreshing: Promise<boolean> | null = null

  constructor(options: ClientOptions = {}) {
    this.baseUrl = options.baseUrl ?? ''
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init))
    this.onUnauthorized = options.onUnauthorized ?? (() => {})
    this.csrfToken = options.csrfToken ?? (() => readCookie(CSRF_COOKIE))
  }

  get signedIn(): boolean {
    return this.token !== null
  }

  /**
   * Trade the refresh cookie for a new access token (silently: no error is thrown). Concurrent
   * callers share one request, because control revokes the whole session when a refresh token
   * is used twice. Without the csrf cookie there is no session to refresh and nothing is sent.
   */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.rotateSession().finally(() => {
      this.refreshing = null
    })
    return this.refreshing
  }

  private async rotateSession(): Promise<boolean> {
    const csrf = this.csrfToken()
    if (!csrf) return false
    try {
      const response = await this.fetchFn(this.baseUrl + '/api/v1/auth/refresh', {
        method: 'POST',
        headers: { Accept: 'application/json', 'X-CSRF-Token': csrf },
        credentials: 'same-origin',
      })
      if (!response.ok) return false
      this.token = ((await response.json()) as Schemas['AccessTokenResponse']).access_token
      return true
    } catch {
      return false
    }
  }

  /** End the session: control revokes the refresh cookie (best effort), the token is dropped. */
  async signOut(): Promise<void> {
    this.token = null
    const csrf = this.csrfToken()
    if (!csrf) return
    try {
      await this.fetchFn(this.baseUrl + '/api/v1/auth/logout', {
        method: 'POST',
        headers: { 'X-CSRF-Token': csrf },
        credentials: 'same-origin',
      })
    } catch {
      // Offline: the refresh cookie expires by itself; the token is already gone.
    }
  }

  async login(email: string, password: string): Promise<void> {
    const body = await this.request<Schemas['AccessTokenResponse']>('POST', '/api/v1/auth/login', {
      body: { email, password },
      anonymous: true,
    })
    this.token = body.access_token
  }

  /** The identity providers control offers single sign-on with (empty when SSO is not set up). */
  listSsoProviders() {
    return this.request<Schemas['SsoProviderList']>('GET', '/api/v1/auth/sso/providers', { anonymous: true })
  }

  getMyProfile() {
    return this.request<User>('GET', '/api/v1/user', {})
  }
  updateMyProfile(displayName: string) {
    return this.request<User>('PATCH', '/api/v1/user', { body: { display_name: displayName } })
  }
  changeMyPassword(currentPassword: string, newPassword: string) {
    return this.request<void>('POST', '/api/v1/user/password', {
      body: { current_password: currentPassword, new_password: newPassword },
    })
  }
  listMyTenants() {
    return this.request<Schemas['MyTenantList']>('GET', '/api/v1/user/tenants', {})
  }
  listMyApiKeys() {
    return this.request<Schemas['ApiKeyPage']>('GET', '/api/v1/user/keys', { query: { limit: 200 } })
  }
  createMyApiKey(body: MyApiKeyCreate) {
    return this.request<CreatedApiKey>('POST', '/api/v1/user/keys', { body })
  }
  revokeMyApiKey(keyId: string) {
    return this.request<ApiKey>('POST', `/api/v1/user/keys/${enc(keyId)}/revoke`, {})
  }
  myUsage(query: { start?: string; end?: string; timezone?: string }) {
    return this.request<MyUsage>('GET', '/api/v1/user/usage', { query })
  }
  listUsers(query: { limit?: number; offset?: number } = {}) {
    return this.request<Schemas['UserPage']>('GET', '/api/v1/users', { query })
  }
  createUser(body: UserCreate) {
    return this.request<User>('POST', '/api/v1/users', { body })
  }
  updateUser(userId: string, body: UserUpdate) {
    return this.request<User>('PATCH', `/api/v1/users/${enc(userId)}`, { body })
  }
  listMembers(tenantId: string) {
    return this.request<Schemas['MemberList']>('GET', `/api/v1/tenants/${enc(tenantId)}/members`, {})
  }
  addMember(tenantId: string, email: string, role: TenantRole) {
    return this.request<Member>('POST', `/api/v1/tenants/${enc(tenantId)}/members`, { body: { email, role } })
  }
  updateMember(tenantId: string, userId: string, role: TenantRole) {
    return this.request<Member>('PATCH', `/api/v1/tenants/${enc(tenantId)}/members/${enc(userId)}`, { body: { role } })
  }
  removeMember(tenantId: string, userId: string) {
    return this.request<void>('DELETE', `/api/v1/tenants/${enc(tenantId)}/members/${enc(userId)}`, {})
  }
  getTenant(tenantId: string) {
    return this.request<Tenant>('GET', `/api/v1/tenants/${enc(tenantId)}`, {})
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
  updateTenant(tenantId: string, body: TenantUpdate) {
    return this.request<Tenant>('PATCH', `/api/v1/tenants/${enc(tenantId)}`, { body })
  }
  getDefaultModelEntitlements() {
    return this.request<Schemas['DefaultEntitlements']>('GET', '/api/v1/settings/default-model-entitlements', {})
  }
  setDefaultModelEntitlements(models: string[]) {
    return this.request<Schemas['DefaultEntitlements']>('PUT', '/api/v1/settings/default-model-entitlements', { body: { models } })
  }
  getRateLimitDefaults() {
    return this.request<RateLimitDefaults>('GET', '/api/v1/settings/rate-limit-defaults', {})
  }
  setRateLimitDefaults(body: RateLimitDefaults) {
    return this.request<RateLimitDefaults>('PUT', '/api/v1/settings/rate-limit-defaults', { body })
  }
  listApiKeys(tenantId: string) {
    return this.request<Schemas['ApiKeyPage']>('GET', `/api/v1/tenants/${enc(tenantId)}/keys`, {
      query: { limit: 200 },
    })
  }
  createApiKey(tenantId: string, body: ApiKeyCreate) {
    return this.request<CreatedApiKey>('POST', `/api/v1/tenants/${enc(tenantId)}/keys`, { body })
  }
  getApiKey(keyId: string) {
    return this.request<ApiKey>('GET', `/api/v1/keys/${enc(keyId)}`, {})
  }
  updateApiKey(keyId: string, body: ApiKeyUpdate) {
    return this.request<ApiKey>('PATCH', `/api/v1/keys/${enc(keyId)}`, { body })
  }
  rotateApiKey(keyId: string, gracePeriodS: number) {
    return this.request<CreatedApiKey>('POST', `/api/v1/keys/${enc(keyId)}/rotate`, {
      body: { grace_period_s: gracePeriodS },
    })
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
  updateModel(modelId: string, body: ModelUpdate) {
    return this.request<Model>('PATCH', `/api/v1/models/${enc(modelId)}`, { body })
  }
  listProviders() {
    return this.request<Schemas['ProviderList']>('GET', '/api/v1/providers', {})
  }
  createProvider(body: ProviderCreate) {
    return this.request<Provider>('POST', '/api/v1/providers', { body })
  }
  updateProvider(providerId: string, body: ProviderUpdate) {
    return this.request<Provider>('PATCH', `/api/v1/providers/${enc(providerId)}`, { body })
  }
  listRoutes() {
    return this.request<Schemas['RouteList']>('GET', '/api/v1/routes', {})
  }
  createRoute(body: RouteCreate) {
    return this.request<Route>('POST', '/api/v1/routes', { body })
  }
  updateRoute(routeId: string, body: RouteUpdate) {
    return this.request<Route>('PATCH', `/api/v1/routes/${enc(routeId)}`, { body })
  }
  updateDeployment(routeId: string, deploymentId: string, body: DeploymentUpdate) {
    return this.request<Deployment>('PATCH', `/api/v1/routes/${enc(routeId)}/deployments/${enc(deploymentId)}`, { body })
  }
  usageSummary(query: UsageQuery) {
    return this.request<UsageSummary>('GET', '/api/v1/usage/summary', { query })
  }
  listBudgets(tenantId: string) {
    return this.request<Schemas['BudgetList']>('GET', `/api/v1/tenants/${enc(tenantId)}/budgets`, {})
  }
  createBudget(tenantId: string, body: BudgetCreate) {
    return this.request<Budget>('POST', `/api/v1/tenants/${enc(tenantId)}/budgets`, { body })
  }
  deleteBudget(budgetId: string) {
    return this.request<void>('DELETE', `/api/v1/budgets/${enc(budgetId)}`, {})
  }
  listAlertChannels(tenantId: string) {
    return this.request<Schemas['AlertChannelList']>('GET', `/api/v1/tenants/${enc(tenantId)}/alert-channels`, {})
  }
  createAlertChannel(tenantId: string, body: AlertChannelCreate) {
    return this.request<AlertChannel>('POST', `/api/v1/tenants/${enc(tenantId)}/alert-channels`, { body })
  }
  setAlertChannelEnabled(channelId: string, enabled: boolean) {
    return this.request<AlertChannel>('PATCH', `/api/v1/alert-channels/${enc(channelId)}`, { body: { enabled } })
  }
  sendTestAlert(channelId: string) {
    return this.request<AlertChannelTestResult>('POST', `/api/v1/alert-channels/${enc(channelId)}/test`, {})
  }
  deleteAlertChannel(channelId: string) {
    return this.request<void>('DELETE', `/api/v1/alert-channels/${enc(channelId)}`, {})
  }
  listBudgetAlerts(tenantId: string) {
    return this.request<Schemas['BudgetAlertPage']>('GET', '/api/v1/alerts', { query: { tenant_id: tenantId, limit: 50 } })
  }
  listDeploymentHealth() {
    return this.request<Schemas['DeploymentHealthList']>('GET', '/api/v1/health/deployments', {})
  }
  usageBreakdown(query: BreakdownQuery) {
    return this.request<UsageBreakdown>('GET', '/api/v1/usage/breakdown', { query })
  }
  listUsageRequests(query: RequestLogQuery) {
    return this.request<Schemas['UsageRequestPage']>('GET', '/api/v1/usage/requests', { query })
  }
  listAudit(query: AuditQuery) {
    return this.request<AuditPage>('GET', '/api/v1/audit', { query })
  }

  private async request<T>(
    method: string,
    path: string,
    options: { body?: unknown; query?: Query; anonymous?: boolean },
  ): Promise<T> {
    const sentWith = this.token
    let response = await this.send(method, path, options)
    if (response.status === 401 && !options.anonymous) {
      // The access token expired: a newer one (another call refreshed meanwhile) or a refreshed
      // one gets a single retry; only when that fails too has the session ended.
      const renewed = this.token !== null && this.token !== sentWith ? true : await this.refresh()
      if (renewed) response = await this.send(method, path, options)
      if (response.status === 401) {
        this.token = null
        this.onUnauthorized()
      }
    }
    if (!response.ok) throw await toApiError(response)
    if (response.status === 204) return undefined as T
    return (await response.json()) as T
  }

  private async send(
    method: string,
    path: string,
    options: { body?: unknown; query?: Query; anonymous?: boolean },
  ): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (options.body !== undefined) headers['Content-Type'] = 'application/json'
    if (!options.anonymous && this.token) headers.Authorization = `Bearer ${this.token}`
    try {
      return await this.fetchFn(this.baseUrl + path + queryString(options.query), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        credentials: 'same-origin',
      })
    } catch {
      throw new ApiError(0, 'network_error', 'The control API could not be reached.', null)
    }
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
