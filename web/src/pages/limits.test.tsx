import { screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { clientFor, json, renderWith } from '../test/fakeApi'
import { SettingsPage } from './Settings'
import { TenantsPage } from './Tenants'

const ZERO = { rpm: 0, tpm: 0, max_parallel: 0 }
const TENANT = { id: 't1', name: 'acme', status: 'active', is_personal: false, allowed_models: [], rpm_limit: 30, tpm_limit: null, max_parallel: null, created_at: '', updated_at: '' }

function settingsClient(put: unknown[]) {
  return clientFor({
    'GET /api/v1/settings/default-model-entitlements': [{ models: [] }],
    'GET /api/v1/models': [{ items: [] }],
    'GET /api/v1/settings/rate-limit-defaults': [{ key_limits: { ...ZERO, rpm: 60 }, tenant_limits: ZERO }],
    'PUT /api/v1/settings/rate-limit-defaults': put,
  })
}

describe('Rate-limit defaults form', () => {
  it('shows the current defaults, refuses a bad value and saves the rest (empty sends 0)', async () => {
    const { client, calls } = settingsClient([{ key_limits: { ...ZERO, rpm: 60, max_parallel: 4 }, tenant_limits: { ...ZERO, tpm: 9000 } }])
    renderWith(client, <SettingsPage />)
    const keyRpm = await screen.findByLabelText('Key requests per minute')
    expect(keyRpm).toHaveValue('60')
    expect(screen.getByLabelText('Tenant requests per minute')).toHaveValue('')
    const parallel = screen.getByLabelText('Key parallel requests')
    await userEvent.type(parallel, '-4')
    await userEvent.click(screen.getByRole('button', { name: 'Save rate-limit defaults' }))
    expect(parallel).toHaveAccessibleDescription('Key parallel requests must be a whole number above 0.')
    expect(calls.filter((c) => c.method === 'PUT')).toHaveLength(0)

    await userEvent.clear(parallel)
    await userEvent.type(parallel, '4')
    await userEvent.type(screen.getByLabelText('Tenant tokens per minute'), '9000')
    await userEvent.click(screen.getByRole('button', { name: 'Save rate-limit defaults' }))
    expect(await screen.findByText('Saved.')).toBeInTheDocument()
    expect(calls.filter((c) => c.method === 'PUT').map((c) => c.body)).toEqual([
      { key_limits: { rpm: 60, tpm: 0, max_parallel: 4 }, tenant_limits: { rpm: 0, tpm: 9000, max_parallel: 0 } },
    ])
  })

  it("shows control's refusal", async () => {
    const { client } = settingsClient([json(403, { error: { code: 'forbidden', message: 'platform admins only' } })])
    renderWith(client, <SettingsPage />)
    await userEvent.type(await screen.findByLabelText('Tenant requests per minute'), '100')
    await userEvent.click(screen.getByRole('button', { name: 'Save rate-limit defaults' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('platform admins only')
    expect(screen.queryByText('Saved.')).not.toBeInTheDocument()
  })
})

describe('Tenant limits editor', () => {
  it('sends only the changed limits, 0 for a cleared one, and refuses bad values', async () => {
    const { client, calls } = clientFor({
      'GET /api/v1/tenants': [{ items: [TENANT], total: 1, limit: 200, offset: 0 }],
      'PATCH /api/v1/tenants/t1': [{ ...TENANT, rpm_limit: null, max_parallel: 8 }],
    })
    renderWith(client, <TenantsPage />)
    expect(await screen.findByText('30 rpm')).toBeInTheDocument()
    await userEvent.click(screen.getByRole('button', { name: 'Edit limits of acme' }))
    const rpm = screen.getByLabelText('Requests per minute')
    expect(rpm).toHaveValue('30')
    const parallel = screen.getByLabelText('Parallel requests')
    await userEvent.type(parallel, 'many')
    await userEvent.click(screen.getByRole('button', { name: 'Save limits' }))
    expect(parallel).toHaveAccessibleDescription('Parallel requests must be a whole number above 0. Empty uses the default.')
    expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(0)

    await userEvent.clear(parallel)
    await userEvent.type(parallel, '8')
    await userEvent.clear(rpm)
    await userEvent.click(screen.getByRole('button', { name: 'Save limits' }))
    await vi.waitFor(() => expect(screen.queryByRole('form', { name: 'Rate limits of acme' })).not.toBeInTheDocument())
    expect(calls.filter((c) => c.method === 'PATCH').map((c) => c.body)).toEqual([{ rpm_limit: 0, max_parallel: 8 }])
  })
})
