import { render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiClient } from '../api/client'
import { ApiContext } from '../api/context'
import { SignIn } from './SignIn'

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

function renderSignIn(providers: Response) {
  const fetchFn = vi.fn(async () => providers)
  const client = new ApiClient({ fetch: fetchFn as unknown as typeof fetch, csrfToken: () => null })
  render(
    <ApiContext.Provider value={client}>
      <SignIn notice={null} onSignedIn={() => {}} />
    </ApiContext.Provider>,
  )
  return fetchFn
}

const corp = { name: 'corp', display_name: 'Corp SSO', start_url: 'https://gw.example.com/api/v1/auth/sso/corp/start' }

afterEach(() => {
  window.history.replaceState(null, '', '/')
})

describe('SignIn with single sign-on', () => {
  it('offers each identity provider control advertises, linking to its start URL', async () => {
    const fetchFn = renderSignIn(json(200, { items: [corp] }))
    const link = await screen.findByRole('link', { name: 'Sign in with Corp SSO' })
    expect(link).toHaveAttribute('href', corp.start_url)
    expect(fetchFn).toHaveBeenCalledWith('/api/v1/auth/sso/providers', expect.objectContaining({ method: 'GET' }))
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeInTheDocument()
  })

  it('shows only the password form without providers, or when the list cannot be read', async () => {
    const fetchFn = renderSignIn(json(200, { items: [] }))
    await vi.waitFor(() => expect(fetchFn).toHaveBeenCalled())
    expect(screen.queryByRole('group', { name: 'Single sign-on' })).toBeNull()

    const failing = renderSignIn(json(503, { error: { code: 'service_unavailable', message: 'down' } }))
    await vi.waitFor(() => expect(failing).toHaveBeenCalled())
    expect(screen.queryByRole('link', { name: /Sign in with/ })).toBeNull()
  })

  it('explains a failed SSO sign-in and drops the reason from the address bar', async () => {
    window.history.replaceState(null, '', '/?sso_error=email_not_verified#/tenants')
    renderSignIn(json(200, { items: [corp] }))
    expect(await screen.findByText('Your identity provider has not verified your email address.')).toBeInTheDocument()
    expect(window.location.search).toBe('')
    expect(window.location.hash).toBe('#/tenants')
  })
})
