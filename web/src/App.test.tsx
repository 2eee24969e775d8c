import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { App } from './App'

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

const user = (platform_admin: boolean) => ({
  id: 'u1', email: platform_admin ? 'admin@example.com' : 'dev@example.com', display_name: '', platform_admin,
  disabled: false, has_password: true, sso: false, created_at: '', updated_at: '',
})
const token = (access_token: string) => json(200, { access_token, token_type: 'bearer', expires_in: 900 })
const page = { items: [], total: 0, limit: 200, offset: 0 }

/** A fetch answering by "METHOD path" from queues; records the bearer token of each call. */
function routedFetch(routes: Record<string, Response[]>) {
  const calls: string[] = []
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input).split('?')[0]
    const key = `${init?.method ?? 'GET'} ${url}`
    calls.push(`${key} ${new Headers(init?.headers).get('Authorization') ?? '-'}`)
    return routes[key]?.shift() ?? json(500, { error: { code: 'unexpected', message: `unexpected ${key}` } })
  })
  vi.stubGlobal('fetch', fn)
  return calls
}

async function signIn() {
  await userEvent.type(await screen.findByLabelText('Email'), 'someone@example.com')
  await userEvent.type(screen.getByLabelText('Password'), 'correct horse battery')
  await userEvent.click(screen.getByRole('button', { name: 'Sign in' }))
}

afterEach(() => {
  document.cookie = 'omg_csrf=; max-age=0'
  window.location.hash = ''
})

describe('App', () => {
  it('signs an admin in, shows the admin sections, and returns to sign-in when the session ends', async () => {
    window.location.hash = '#/tenants'
    const calls = routedFetch({
      'POST /api/v1/auth/login': [token('tok')],
      'GET /api/v1/user': [json(200, user(true))],
      'GET /api/v1/tenants': [json(200, page)],
      'GET /api/v1/models': [json(401, { error: { code: 'unauthorized', message: 'token expired' } })],
    })
    render(<App />)
    await signIn()
    expect(await screen.findByRole('heading', { level: 1, name: 'Tenants' })).toBeInTheDocument()
    expect(await screen.findByText('No tenants yet. Create the first one above.')).toBeInTheDocument()
    const admin = screen.getByRole('navigation', { name: 'Admin' })
    expect(within(admin).getByRole('link', { name: 'Tenants' })).toHaveAttribute('aria-current', 'page')
    expect(within(admin).getByRole('link', { name: 'Dashboard' })).toBeInTheDocument()
    expect(within(screen.getByRole('navigation', { name: 'My account' })).getByRole('link', { name: 'My keys' })).toBeInTheDocument()

    // No csrf cookie: nothing to refresh with, so a 401 ends the session.
    await userEvent.click(screen.getByRole('link', { name: 'Models' }))
    expect(await screen.findByRole('heading', { name: 'Sign in to the admin console' })).toBeInTheDocument()
    expect(screen.getByRole('status')).toHaveTextContent('Your session has ended. Sign in again to continue.')
    expect(calls.filter((c) => c.includes('/auth/refresh'))).toEqual([])
  })

  it('gives a user only the portal, landing on their keys', async () => {
    routedFetch({
      'POST /api/v1/auth/login': [token('tok')],
      'GET /api/v1/user': [json(200, user(false))],
      'GET /api/v1/user/keys': [json(200, page), json(200, page)],
      'GET /api/v1/user/tenants': [json(200, { items: [] }), json(200, { items: [] })],
    })
    render(<App />)
    await signIn()
    expect(await screen.findByRole('heading', { level: 1, name: 'My API keys' })).toBeInTheDocument()
    expect(window.location.hash).toBe('#/me/keys')
    expect(screen.queryByRole('navigation', { name: 'Admin' })).toBeNull()
    expect(screen.queryByRole('link', { name: 'Dashboard' })).toBeNull()
    expect(screen.getByText('User')).toBeInTheDocument()

    window.location.hash = '#/users'
    expect(await screen.findByText(/This page is for platform admins/)).toBeInTheDocument()
  })

  it('restores the session from the refresh cookie and survives an access-token expiry', async () => {
    document.cookie = 'omg_csrf=csrf-value'
    window.location.hash = '#/tenants'
    const tenant = { id: 't1', name: 'acme', status: 'active', is_personal: false, allowed_models: [], created_at: '', updated_at: '' }
    const calls = routedFetch({
      'POST /api/v1/auth/refresh': [token('tok-1'), token('tok-2')],
      'GET /api/v1/user': [json(200, user(true))],
      'GET /api/v1/tenants': [json(200, page), json(200, { ...page, items: [tenant], total: 1 })],
      'POST /api/v1/tenants': [json(401, { error: { code: 'unauthorized', message: 'expired' } }), json(201, tenant)],
    })
    render(<App />)
    expect(await screen.findByText('No tenants yet. Create the first one above.')).toBeInTheDocument()
    await userEvent.type(screen.getByLabelText('New tenant name'), 'acme')
    await userEvent.click(screen.getByRole('button', { name: 'Create tenant' }))
    expect(await screen.findByRole('link', { name: 'acme' })).toBeInTheDocument()
    expect(calls).toEqual([
      'POST /api/v1/auth/refresh -',
      'GET /api/v1/user Bearer tok-1',
      'GET /api/v1/tenants Bearer tok-1',
      'POST /api/v1/tenants Bearer tok-1',
      'POST /api/v1/auth/refresh -',
      'POST /api/v1/tenants Bearer tok-2',
      'GET /api/v1/tenants Bearer tok-2',
    ])
    expect(screen.queryByRole('heading', { name: 'Sign in to the admin console' })).toBeNull()
  })
})
