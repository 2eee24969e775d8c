import { screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { clientFor, renderWith } from '../../test/fakeApi'
import { BudgetsPage } from '../Budgets'
import { channelProblems } from './AlertChannels'
import { budgetRequest, parseThresholds, type BudgetDraft } from './budgetForm'

const DRAFT: BudgetDraft = { keyId: '', limitUsd: '250', period: 'monthly', rollingDays: '30', timeZone: 'Europe/Paris', hard: true, thresholds: '80, 50, 100, 80' }

describe('budget form', () => {
  it('turns a draft into the create request (integer micro-USD, sorted thresholds)', () => {
    expect(budgetRequest(DRAFT)).toEqual({
      body: { limit_micro_usd: 250_000_000, period: 'monthly', scope: 'tenant', key_id: null, rolling_days: null, timezone: 'Europe/Paris', hard: true, thresholds: [50, 80, 100] },
    })
    expect(budgetRequest({ ...DRAFT, keyId: 'k1', period: 'rolling', rollingDays: '7', limitUsd: '0.5', hard: false })).toMatchObject({
      body: { scope: 'key', key_id: 'k1', rolling_days: 7, limit_micro_usd: 500_000, hard: false },
    })
  })

  it('says what is wrong', () => {
    expect(budgetRequest({ ...DRAFT, limitUsd: '-3', period: 'rolling', rollingDays: '400', thresholds: '50, lots' })).toEqual({
      errors: {
        limitUsd: 'Enter the limit in USD, e.g. 250 or 12.50.',
        thresholds: 'Percentages of the limit from 1 to 1000, comma-separated, e.g. 50, 80, 100.',
        rollingDays: 'A rolling budget counts 1 to 366 days.',
      },
    })
    expect(parseThresholds('')).toEqual([])
    expect(parseThresholds('0')).toBeNull()
    expect(parseThresholds('1001')).toBeNull()
  })

  it('checks alert channels by kind', () => {
    expect(channelProblems({ name: 'ops', kind: 'webhook', target: 'https://hooks.example.com/x', secret: '' })).toEqual({})
    expect(channelProblems({ name: ' ', kind: 'email', target: 'https://x', secret: 'short' })).toEqual({
      name: 'A channel needs a name.',
      target: 'Enter an email address.',
      secret: 'A signing secret has at least 16 characters.',
    })
  })
})

describe('Budgets page', () => {
  const key = { id: 'k1', name: 'billing', revoked_at: null }
  const budget = {
    id: 'b1', tenant_id: 't1', scope: 'key', scope_id: 'k1', limit_micro_usd: 25_000_000, period: 'rolling', rolling_days: 7,
    timezone: 'UTC', hard: false, thresholds: [80, 100], created_at: '', updated_at: '',
  }

  it('lists budgets by key name, creates one on a key, deletes one, and adds a channel', async () => {
    const { client, calls } = clientFor({
      'GET /api/v1/tenants/t1': [{ id: 't1', name: 'acme' }],
      'GET /api/v1/tenants/t1/keys': [{ items: [key], total: 1, limit: 200, offset: 0 }],
      'GET /api/v1/tenants/t1/budgets': [{ items: [budget] }],
      'POST /api/v1/tenants/t1/budgets': [budget],
      'DELETE /api/v1/budgets/b1': [new Response(null, { status: 204 })],
      'GET /api/v1/tenants/t1/alert-channels': [{ items: [] }],
      'POST /api/v1/tenants/t1/alert-channels': [{ id: 'c1' }],
      'GET /api/v1/alerts': [{ items: [], next_page_token: null }],
    })
    vi.spyOn(window, 'confirm').mockReturnValue(true)
    renderWith(client, <BudgetsPage tenantId="t1" />)
    expect(await screen.findByRole('heading', { level: 1, name: 'Budgets of acme' })).toBeInTheDocument()
    const table = await screen.findByRole('table', { name: 'Budgets of acme' })
    expect(within(table).getByText('Key billing')).toBeInTheDocument()
    expect(within(table).getByText('last 7 days')).toBeInTheDocument()
    expect(await screen.findByText('No alert has fired for this tenant.')).toBeInTheDocument()

    const form = screen.getByRole('form', { name: 'Create a budget' })
    await userEvent.selectOptions(within(form).getByLabelText('Applies to'), 'k1')
    await userEvent.type(within(form).getByLabelText('Limit (USD)'), '12.5')
    await userEvent.selectOptions(within(form).getByLabelText('Period'), 'daily')
    await userEvent.click(within(form).getByRole('button', { name: 'Create budget' }))
    await userEvent.click(within(table).getByRole('button', { name: /Delete budget/ }))

    const channels = screen.getByRole('form', { name: 'Add an alert channel' })
    await userEvent.type(within(channels).getByLabelText('Channel name'), 'finance')
    await userEvent.type(within(channels).getByLabelText('Webhook URL'), 'https://hooks.example.com/budget')
    await userEvent.click(within(channels).getByRole('button', { name: 'Add channel' }))
    await vi.waitFor(() => expect(calls.filter((c) => c.method !== 'GET')).toHaveLength(3))
    const writes = calls.filter((c) => c.method !== 'GET').map((c) => [c.method, c.url, c.body])
    expect(writes[0]).toEqual(['POST', '/api/v1/tenants/t1/budgets', expect.objectContaining({
      scope: 'key', key_id: 'k1', limit_micro_usd: 12_500_000, period: 'daily', thresholds: [50, 80, 100], hard: true,
    })])
    expect(writes[1]).toEqual(['DELETE', '/api/v1/budgets/b1', undefined])
    expect(writes[2]).toEqual(['POST', '/api/v1/tenants/t1/alert-channels', { name: 'finance', kind: 'webhook', target: 'https://hooks.example.com/budget', secret: null }])
  })
})
