import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { ApiClient } from '../api/client'
import { ApiContext } from '../api/context'
import { ModelForm } from './Models'
import { TenantForm } from './Tenants'

function withClient(client: ApiClient, ui: React.ReactNode) {
  return render(<ApiContext.Provider value={client}>{ui}</ApiContext.Provider>)
}

function clientAnswering(status: number, body: unknown) {
  const fetchFn = vi.fn(async () => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }))
  return { client: new ApiClient({ fetch: fetchFn as unknown as typeof fetch }), fetchFn }
}

describe('TenantForm', () => {
  it('says what is wrong and sends nothing when the name is empty', async () => {
    const { client, fetchFn } = clientAnswering(201, {})
    withClient(client, <TenantForm onCreated={vi.fn()} />)
    await userEvent.click(screen.getByRole('button', { name: 'Create tenant' }))
    const input = screen.getByLabelText('New tenant name')
    expect(input).toHaveAttribute('aria-invalid', 'true')
    expect(input).toHaveAccessibleDescription('A tenant needs a name.')
    expect(fetchFn).not.toHaveBeenCalled()
  })

  it('creates the tenant and reports it', async () => {
    const tenant = { id: 't1', name: 'acme', status: 'active', is_personal: false, allowed_models: [], created_at: '', updated_at: '' }
    const { client, fetchFn } = clientAnswering(201, tenant)
    const onCreated = vi.fn()
    withClient(client, <TenantForm onCreated={onCreated} />)
    await userEvent.type(screen.getByLabelText('New tenant name'), '  acme ')
    await userEvent.click(screen.getByRole('button', { name: 'Create tenant' }))
    expect(onCreated).toHaveBeenCalledWith(tenant)
    const [url, init] = fetchFn.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/tenants')
    expect(JSON.parse(String(init.body))).toEqual({ name: 'acme' })
    expect(screen.getByLabelText('New tenant name')).toHaveValue('')
  })

  it("shows the server's reason when control refuses", async () => {
    const { client } = clientAnswering(409, { error: { code: 'conflict', message: 'tenant name already taken' } })
    withClient(client, <TenantForm onCreated={vi.fn()} />)
    await userEvent.type(screen.getByLabelText('New tenant name'), 'acme')
    await userEvent.click(screen.getByRole('button', { name: 'Create tenant' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('tenant name already taken')
  })
})

describe('ModelForm', () => {
  it('validates prices and converts USD per million tokens to micro-USD', async () => {
    const { client, fetchFn } = clientAnswering(201, {})
    withClient(client, <ModelForm onCreated={vi.fn()} />)
    await userEvent.type(screen.getByLabelText('Model name'), 'gpt-4o-mini')
    await userEvent.type(screen.getByLabelText('Input price (USD / 1M tokens)'), 'cheap')
    await userEvent.click(screen.getByRole('button', { name: 'Add model' }))
    expect(screen.getByLabelText('Input price (USD / 1M tokens)')).toHaveAccessibleDescription(
      'Enter a price in USD per million tokens, e.g. 0.15.',
    )
    expect(fetchFn).not.toHaveBeenCalled()

    await userEvent.clear(screen.getByLabelText('Input price (USD / 1M tokens)'))
    await userEvent.type(screen.getByLabelText('Input price (USD / 1M tokens)'), '0.15')
    await userEvent.type(screen.getByLabelText('Output price (USD / 1M tokens)'), '0.6')
    await userEvent.click(screen.getByRole('button', { name: 'Add model' }))
    const [, init] = fetchFn.mock.calls[0] as unknown as [string, RequestInit]
    expect(JSON.parse(String(init.body))).toEqual({
      name: 'gpt-4o-mini',
      context_window: null,
      pricing: { input_micro_usd_per_mtok: 150000, output_micro_usd_per_mtok: 600000 },
    })
  })
})
