import { screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { ApiKey } from '../api/client'
import { clientFor, json, queryOf, renderWith } from '../test/fakeApi'
import { MembersPage } from './Members'
import { MyKeysPage } from './MyKeys'
import { UsageExplorerPage } from './UsageExplorer'
import { userFormProblems } from './Users'

const key: ApiKey = {
  id: 'k1', tenant_id: 't1', user_id: 'u1', name: 'billing', prefix: 'sk-gw-abcd', last4: 'wxyz',
  allowed_models: [], rpm_limit: 60, tpm_limit: null, max_parallel: null, expires_at: null,
  revoked_at: null, disabled: false, rotated_from: null, created_at: '2026-11-26T07:00:00Z',
}
const usage = (requests: number, cost: number) => ({ requests, prompt_tokens: requests * 10, completion_tokens: requests, cost_micro_usd: cost, errors: 0 })

describe('My keys (user portal)', () => {
  const tenants = { items: [
    { id: 'p1', name: 'dev@example.com', status: 'active', is_personal: true, role: 'owner' },
    { id: 't2', name: 'research', status: 'active', is_personal: false, role: 'member' },
  ] }

  it('creates a key in a chosen tenant with limits and reveals it once', async () => {
    const { client, calls } = clientFor({
      'GET /api/v1/user/keys': [{ items: [], total: 0, limit: 200, offset: 0 }, { items: [key], total: 1, limit: 200, offset: 0 }],
      'GET /api/v1/user/tenants': [tenants],
      'POST /api/v1/user/keys': [{ ...key, key: 'sk-gw-abcdSECRETwxyz' }],
    })
    renderWith(client, <MyKeysPage />)
    expect(await screen.findByText('You have no keys yet. Create one above.')).toBeInTheDocument()
    await userEvent.selectOptions(await screen.findByLabelText('Tenant'), 'research')
    await userEvent.type(screen.getByLabelText('Key name'), 'billing')
    await userEvent.type(screen.getByLabelText('Tokens per minute'), 'lots')
    await userEvent.click(screen.getByRole('button', { name: 'Create key' }))
    expect(screen.getByLabelText('Tokens per minute')).toHaveAccessibleDescription(/Tokens per minute must be a whole number above 0./)
    expect(calls.filter((c) => c.method === 'POST')).toEqual([])

    await userEvent.clear(screen.getByLabelText('Tokens per minute'))
    await userEvent.type(screen.getByLabelText('Tokens per minute'), '20000')
    await userEvent.click(screen.getByRole('button', { name: 'Create key' }))
    expect(await screen.findByTestId('revealed-key')).toHaveTextContent('sk-gw-abcdSECRETwxyz')
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.url).toBe('/api/v1/user/keys')
    expect(post.body).toEqual({
      name: 'billing', allowed_models: [], rpm_limit: null, tpm_limit: 20000, max_parallel: null, expires_at: null, tenant_id: 't2',
    })
    expect(await screen.findByRole('cell', { name: 'billing' })).toBeInTheDocument()
  })

  it('edits limits (an emptied limit is sent as 0, which removes it), rotates and revokes', async () => {
    const { client, calls } = clientFor({
      'GET /api/v1/user/keys': [{ items: [key], total: 1, limit: 200, offset: 0 }],
      'GET /api/v1/user/tenants': [tenants],
      'PATCH /api/v1/keys/k1': [{ ...key, rpm_limit: null, max_parallel: 4 }],
      'POST /api/v1/keys/k1/rotate': [{ ...key, id: 'k2', key: 'sk-gw-NEWSECRET' }],
      'POST /api/v1/user/keys/k1/revoke': [json(200, { ...key, revoked_at: '2026-11-26T08:00:00Z' })],
    })
    vi.spyOn(window, 'confirm').mockReturnValue(true)
    renderWith(client, <MyKeysPage />)
    await userEvent.click(await screen.findByRole('button', { name: 'Edit billing' }))
    const editor = screen.getByRole('form', { name: 'Edit key billing' })
    await userEvent.clear(within(editor).getByLabelText('Requests per minute'))
    await userEvent.type(within(editor).getByLabelText('Parallel requests'), '4')
    await userEvent.click(within(editor).getByRole('button', { name: 'Save changes' }))
    await vi.waitFor(() => expect(calls.some((c) => c.method === 'PATCH')).toBe(true))
    expect(calls.find((c) => c.method === 'PATCH')!.body).toEqual({
      name: 'billing', allowed_models: [], disabled: false, rpm_limit: 0, max_parallel: 4,
    })

    await userEvent.click(await screen.findByRole('button', { name: 'Rotate billing' }))
    await userEvent.selectOptions(screen.getByLabelText('Old key'), '3600')
    await userEvent.click(screen.getByRole('button', { name: 'Rotate key' }))
    expect(await screen.findByTestId('revealed-key')).toHaveTextContent('sk-gw-NEWSECRET')
    expect(calls.find((c) => c.url.endsWith('/rotate'))!.body).toEqual({ grace_period_s: 3600 })

    await userEvent.click(screen.getByRole('button', { name: 'Revoke billing' }))
    await vi.waitFor(() => expect(calls.some((c) => c.url === '/api/v1/user/keys/k1/revoke')).toBe(true))
  })
})

describe('Usage explorer', () => {
  it('sends the filters as a breakdown query and downloads the groups as CSV', async () => {
    window.location.hash = '#/usage?from=2026-11-01&to=2026-11-02&timeZone=Asia%2FTokyo&groupBy=tenant'
    const { client, calls } = clientFor({
      'GET /api/v1/usage/breakdown': [
        { group_by: 'tenant', groups: [{ key: 't1', usage: usage(3, 1234) }] },
        { group_by: 'model', groups: [{ key: 'gpt-4o-mini', usage: usage(3, 1234) }] },
      ],
      'GET /api/v1/tenants': [{ items: [{ id: 't1', name: 'acme', status: 'active', is_personal: false, allowed_models: [], created_at: '', updated_at: '' }], total: 1, limit: 500, offset: 0 }],
      'GET /api/v1/models': [{ items: [{ name: 'gpt-4o-mini' }] }],
      'GET /api/v1/tenants/t1/keys': [{ items: [key], total: 1, limit: 200, offset: 0 }],
    })
    let filename = ''
    const blobUrl = vi.spyOn(URL, 'createObjectURL').mockImplementation(() => 'blob:usage')
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {})
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      filename = this.download
    })
    renderWith(client, <UsageExplorerPage />)

    expect(await screen.findByRole('cell', { name: 'acme' })).toBeInTheDocument()
    const first = calls.find((c) => c.url.startsWith('/api/v1/usage/breakdown'))!
    expect(queryOf(first.url)).toEqual({
      group_by: 'tenant', start: '2026-10-31T15:00:00.000Z', end: '2026-11-02T15:00:00.000Z', timezone: 'Asia/Tokyo',
    })

    await userEvent.click(screen.getByRole('button', { name: 'Download CSV' }))
    const csv = await (blobUrl.mock.calls[0][0] as Blob).text()
    expect(filename).toBe('usage-by-tenant-2026-11-01-to-2026-11-02.csv')
    expect(csv).toBe(
      'tenant,name,requests,prompt_tokens,completion_tokens,errors,cost_usd,cost_micro_usd\r\nt1,acme,3,30,3,0,0.001234,1234\r\n',
    )

    await userEvent.selectOptions(screen.getByLabelText('Group by'), 'model')
    await userEvent.selectOptions(screen.getByLabelText('Tenant'), 'acme')
    await screen.findByRole('option', { name: /billing/ })
    await userEvent.selectOptions(screen.getByLabelText('API key'), 'k1')
    await userEvent.click(screen.getByRole('button', { name: 'Show' }))
    expect(await screen.findByRole('cell', { name: 'gpt-4o-mini' })).toBeInTheDocument()
    const second = calls.filter((c) => c.url.startsWith('/api/v1/usage/breakdown'))[1]
    expect(queryOf(second.url)).toMatchObject({ group_by: 'model', tenant_id: 't1', key_id: 'k1' })
    expect(window.location.hash).toContain('groupBy=model')
  })

  it('refuses a reversed range without asking the server', async () => {
    window.location.hash = '#/usage'
    const { client, calls } = clientFor({
      'GET /api/v1/usage/breakdown': [{ group_by: 'day', groups: [] }],
      'GET /api/v1/tenants': [{ items: [], total: 0, limit: 500, offset: 0 }],
      'GET /api/v1/models': [{ items: [] }],
    })
    renderWith(client, <UsageExplorerPage />)
    expect(await screen.findByText('No requests match these filters.')).toBeInTheDocument()
    const from = screen.getByLabelText('From')
    await userEvent.clear(from)
    await userEvent.type(from, '2999-01-01')
    await userEvent.click(screen.getByRole('button', { name: 'Show' }))
    expect(screen.getByRole('alert')).toHaveTextContent('The start day must not be after the end day.')
    expect(calls.filter((c) => c.url.startsWith('/api/v1/usage/breakdown'))).toHaveLength(1)
  })

  it('shows the API error with a retry, never a blank page', async () => {
    window.location.hash = '#/usage'
    const { client } = clientFor({
      'GET /api/v1/usage/breakdown': [json(503, { error: { code: 'accounting_unavailable', message: 'the accounting service is unreachable' } })],
      'GET /api/v1/tenants': [{ items: [], total: 0, limit: 500, offset: 0 }],
      'GET /api/v1/models': [{ items: [] }],
    })
    renderWith(client, <UsageExplorerPage />)
    expect(await screen.findByText('the accounting service is unreachable')).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument()
  })
})

describe('Members', () => {
  it('adds a member with a role, changes a role and removes a member', async () => {
    const member = { user_id: 'u2', email: 'dev@example.com', display_name: 'Dev', disabled: false, role: 'member', created_at: '' }
    const { client, calls } = clientFor({
      'GET /api/v1/tenants/t1': [{ id: 't1', name: 'acme' }],
      'GET /api/v1/tenants/t1/members': [{ items: [member] }],
      'POST /api/v1/tenants/t1/members': [member],
      'PATCH /api/v1/tenants/t1/members/u2': [{ ...member, role: 'admin' }],
      'DELETE /api/v1/tenants/t1/members/u2': [new Response(null, { status: 204 })],
    })
    vi.spyOn(window, 'confirm').mockReturnValue(true)
    renderWith(client, <MembersPage tenantId="t1" />)
    expect(await screen.findByRole('heading', { level: 1, name: 'Members of acme' })).toBeInTheDocument()
    await userEvent.click(screen.getByRole('button', { name: 'Add member' }))
    expect(screen.getByLabelText('Member email')).toHaveAccessibleDescription('Enter the email of an existing user.')
    await userEvent.type(screen.getByLabelText('Member email'), 'dev@example.com')
    await userEvent.selectOptions(screen.getByLabelText('Role'), 'viewer')
    await userEvent.click(screen.getByRole('button', { name: 'Add member' }))
    await userEvent.selectOptions(await screen.findByLabelText('Role of dev@example.com'), 'admin')
    await userEvent.click(screen.getByRole('button', { name: 'Remove dev@example.com' }))
    await vi.waitFor(() => expect(calls.some((c) => c.method === 'DELETE')).toBe(true))
    expect(calls.filter((c) => c.method !== 'GET').map((c) => [c.method, c.url, c.body])).toEqual([
      ['POST', '/api/v1/tenants/t1/members', { email: 'dev@example.com', role: 'viewer' }],
      ['PATCH', '/api/v1/tenants/t1/members/u2', { role: 'admin' }],
      ['DELETE', '/api/v1/tenants/t1/members/u2', undefined],
    ])
  })
})

describe('New user form', () => {
  it('says which fields are wrong', () => {
    expect(userFormProblems({ email: 'dev@example.com', display_name: '', password: '' })).toEqual({})
    expect(userFormProblems({ email: 'nope', display_name: 'x'.repeat(201), password: 'short' })).toEqual({
      email: 'Enter an email address, e.g. dev@example.com.',
      display_name: 'A display name has at most 200 characters.',
      password: 'A password has at least 12 characters.',
    })
  })
})
