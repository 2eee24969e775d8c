import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { App } from './App'

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

describe('App', () => {
  it('signs in, shows the tenants, and returns to sign-in when the session ends (401)', async () => {
    window.location.hash = '#/tenants'
    const answers = [
      json(200, { access_token: 'tok', token_type: 'bearer', expires_in: 900 }),
      json(200, { items: [], total: 0, limit: 200, offset: 0 }),
      json(401, { error: { code: 'unauthorized', message: 'token expired', details: null, request_id: null } }),
    ]
    const fetchFn = vi.fn(async () => answers.shift() ?? json(500, {}))
    vi.stubGlobal('fetch', fetchFn)
    render(<App />)

    await userEvent.type(screen.getByLabelText('Email'), 'admin@example.com')
    await userEvent.type(screen.getByLabelText('Password'), 'correct horse battery')
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }))
    expect(await screen.findByRole('heading', { level: 1, name: 'Tenants' })).toBeInTheDocument()
    expect(await screen.findByText('No tenants yet. Create the first one above.')).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Tenants' })).toHaveAttribute('aria-current', 'page')

    await userEvent.click(screen.getByRole('link', { name: 'Models' }))
    expect(await screen.findByRole('heading', { name: 'Sign in to the admin console' })).toBeInTheDocument()
    expect(screen.getByRole('status')).toHaveTextContent('Your session has ended. Sign in again to continue.')
    expect(fetchFn).toHaveBeenCalledTimes(3)
  })
})
