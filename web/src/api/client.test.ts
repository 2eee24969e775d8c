import { describe, expect, it, vi } from 'vitest'
import { ApiClient, ApiError, readCookie } from './client'

type Call = { url: string; init: RequestInit }

function fakeFetch(responses: Response[]) {
  const calls: Call[] = []
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init: init ?? {} })
    const next = responses.shift()
    if (!next) throw new Error('unexpected request')
    return next
  })
  return { fn: fn as unknown as typeof fetch, calls }
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

describe('ApiClient', () => {
  it('signs in, then sends the token as a bearer header', async () => {
    const { fn, calls } = fakeFetch([
      json(200, { access_token: 'tok-1', token_type: 'bearer', expires_in: 900 }),
      json(200, { items: [], total: 0, limit: 50, offset: 0 }),
    ])
    const client = new ApiClient({ fetch: fn })
    await client.login('admin@example.com', 'correct horse')
    expect(client.signedIn).toBe(true)
    expect(calls[0].url).toBe('/api/v1/auth/login')
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ email: 'admin@example.com', password: 'correct horse' })
    expect(new Headers(calls[0].init.headers).get('Authorization')).toBeNull()

    const page = await client.listTenants({ limit: 50 })
    expect(page.total).toBe(0)
    expect(calls[1].url).toBe('/api/v1/tenants?limit=50')
    expect(new Headers(calls[1].init.headers).get('Authorization')).toBe('Bearer tok-1')
  })

  it('drops empty query parameters and encodes the rest', async () => {
    const { fn, calls } = fakeFetch([json(200, { items: [], next_before_id: null })])
    await new ApiClient({ fetch: fn }).listAudit({ action: 'tenant.', actor_email: undefined, target_type: '' , limit: 10 })
    expect(calls[0].url).toBe('/api/v1/audit?action=tenant.&limit=10')
  })

  it("turns control's error shape into an ApiError", async () => {
    const { fn } = fakeFetch([
      json(409, { error: { code: 'conflict', message: 'a tenant named acme exists', details: null, request_id: 'r-1' } }),
    ])
    const error = await new ApiClient({ fetch: fn }).createTenant('acme').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 409, code: 'conflict', message: 'a tenant named acme exists', requestId: 'r-1' })
  })

  it('forgets the token and calls onUnauthorized on 401', async () => {
    const onUnauthorized = vi.fn()
    const { fn } = fakeFetch([
      json(200, { access_token: 'tok-1', token_type: 'bearer', expires_in: 900 }),
      json(401, { error: { code: 'unauthorized', message: 'token expired', details: null, request_id: null } }),
    ])
    const client = new ApiClient({ fetch: fn, onUnauthorized })
    await client.login('a@b.c', 'pw')
    await expect(client.listModels()).rejects.toMatchObject({ status: 401 })
    expect(onUnauthorized).toHaveBeenCalledOnce()
    expect(client.signedIn).toBe(false)
  })

  it('does not treat a failed sign-in as an expired session', async () => {
    const onUnauthorized = vi.fn()
    const { fn } = fakeFetch([json(401, { error: { code: 'unauthorized', message: 'wrong email or password' } })])
    await expect(new ApiClient({ fetch: fn, onUnauthorized }).login('a@b.c', 'nope')).rejects.toThrow('wrong email or password')
    expect(onUnauthorized).not.toHaveBeenCalled()
  })

  it('reports an unreachable API and a non-JSON error page plainly', async () => {
    const failing = vi.fn(async () => {
      throw new TypeError('Failed to fetch')
    }) as unknown as typeof fetch
    await expect(new ApiClient({ fetch: failing }).listRoutes()).rejects.toMatchObject({ code: 'network_error' })
    const { fn } = fakeFetch([new Response('<html>bad gateway</html>', { status: 502 })])
    await expect(new ApiClient({ fetch: fn }).listRoutes()).rejects.toMatchObject({ status: 502, code: 'http_502' })
  })

  it('refreshes the session silently on 401 and retries the call once', async () => {
    const onUnauthorized = vi.fn()
    const { fn, calls } = fakeFetch([
      json(200, { access_token: 'tok-1', token_type: 'bearer', expires_in: 900 }),
      json(401, { error: { code: 'unauthorized', message: 'token expired' } }),
      json(200, { access_token: 'tok-2', token_type: 'bearer', expires_in: 900 }),
      json(200, { items: [] }),
    ])
    const client = new ApiClient({ fetch: fn, onUnauthorized, csrfToken: () => 'csrf-1' })
    await client.login('a@b.c', 'pw')
    expect(await client.listModels()).toEqual({ items: [] })
    expect(calls.map((c) => `${c.init.method} ${c.url}`)).toEqual([
      'POST /api/v1/auth/login',
      'GET /api/v1/models',
      'POST /api/v1/auth/refresh',
      'GET /api/v1/models',
    ])
    expect(new Headers(calls[2].init.headers).get('X-CSRF-Token')).toBe('csrf-1')
    expect(new Headers(calls[2].init.headers).get('Authorization')).toBeNull()
    expect(calls[2].init.credentials).toBe('same-origin')
    expect(new Headers(calls[3].init.headers).get('Authorization')).toBe('Bearer tok-2')
    expect(onUnauthorized).not.toHaveBeenCalled()
    expect(client.signedIn).toBe(true)
  })

  it('shares one refresh between concurrent calls (a refresh token works once)', async () => {
    const answers: Record<string, Response[]> = {
      '/api/v1/models': [json(401, {}), json(200, { items: ['m'] })],
      '/api/v1/routes': [json(401, {}), json(200, { items: ['r'] })],
      '/api/v1/auth/refresh': [json(200, { access_token: 'tok-2', expires_in: 900 })],
    }
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const fn = vi.fn(async (input: RequestInfo | URL) => {
      const url = String(input)
      if (url === '/api/v1/auth/refresh') await gate
      return answers[url].shift()!
    }) as unknown as typeof fetch
    const client = new ApiClient({ fetch: fn, csrfToken: () => 'c' })
    const both = Promise.all([client.listModels(), client.listRoutes()])
    await vi.waitFor(() => expect(fn).toHaveBeenCalledTimes(3))
    release()
    expect(await both).toEqual([{ items: ['m'] }, { items: ['r'] }])
    const refreshes = (fn as unknown as ReturnType<typeof vi.fn>).mock.calls.filter(([u]) => u === '/api/v1/auth/refresh')
    expect(refreshes).toHaveLength(1)
  })

  it('ends the session when the refresh is refused, and does not loop', async () => {
    const onUnauthorized = vi.fn()
    const { fn, calls } = fakeFetch([
      json(401, { error: { code: 'unauthorized', message: 'token expired' } }),
      json(401, { error: { code: 'unauthorized', message: 'refresh token reused' } }),
    ])
    const client = new ApiClient({ fetch: fn, onUnauthorized, csrfToken: () => 'c' })
    await expect(client.listModels()).rejects.toMatchObject({ status: 401, message: 'token expired' })
    expect(calls).toHaveLength(2)
    expect(onUnauthorized).toHaveBeenCalledOnce()
  })

  it('sends no refresh without the csrf cookie, and restores a session from it', async () => {
    const { fn, calls } = fakeFetch([json(200, { access_token: 'tok-9', expires_in: 900 })])
    expect(await new ApiClient({ fetch: fn, csrfToken: () => null }).refresh()).toBe(false)
    expect(calls).toHaveLength(0)
    const client = new ApiClient({ fetch: fn, csrfToken: () => 'c' })
    expect(await client.refresh()).toBe(true)
    expect(client.signedIn).toBe(true)
  })

  it('signs out through logout with the csrf header', async () => {
    const { fn, calls } = fakeFetch([json(200, { access_token: 't', expires_in: 900 }), new Response(null, { status: 204 })])
    const client = new ApiClient({ fetch: fn, csrfToken: () => 'c-3' })
    await client.login('a@b.c', 'pw')
    await client.signOut()
    expect(client.signedIn).toBe(false)
    expect(calls[1].url).toBe('/api/v1/auth/logout')
    expect(new Headers(calls[1].init.headers).get('X-CSRF-Token')).toBe('c-3')
  })

  it('reads one cookie out of document.cookie', () => {
    expect(readCookie('omg_csrf', 'a=1; omg_csrf=x%3Dy; b=2')).toBe('x=y')
    expect(readCookie('omg_csrf', 'omg_csrfx=1')).toBeNull()
    expect(readCookie('omg_csrf', '')).toBeNull()
  })
})
