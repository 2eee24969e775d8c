import { describe, expect, it, vi } from 'vitest'
import { ApiClient, ApiError } from './client'

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
})
