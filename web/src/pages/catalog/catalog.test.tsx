import { screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { Deployment, Provider } from '../../api/client'
import { clientFor, json, renderWith } from '../../test/fakeApi'
import { AlertChannels } from '../budgets/AlertChannels'
import { ModelsPage } from '../Models'
import { ProvidersPage } from '../Providers'
import { RoutesPage } from '../Routes'
import { SettingsPage } from '../Settings'
import { TenantsPage } from '../Tenants'
import { deploymentChange, deploymentTexts } from './DeploymentEditor'
import { microToUsdText, parseCapabilities, parsePairs, parseWhole } from './parse'
import { providerChange } from './ProviderEditor'
import { routeChange } from './RouteEditor'

const PRICING = { input_micro_usd_per_mtok: 150_000, output_micro_usd_per_mtok: 600_000, cached_input_micro_usd_per_mtok: null, reasoning_micro_usd_per_mtok: null }
const MODEL = { id: 'm1', name: 'demo', owned_by: 'gateway', context_window: 8192, capabilities: ['tools'], pricing: PRICING, enabled: true, created_at: '', updated_at: '' }
const PROVIDER: Provider = { id: 'p1', name: 'openai-main', type: 'openai', base_url: 'https://api.example.com/v1', settings: { organization: 'org-1' }, has_credentials: true, enabled: true, created_at: '', updated_at: '' }
const DEPLOYMENT: Deployment = { id: 'd1', provider_id: 'p1', upstream_model: 'gpt-x', weight: 1, priority: 0, rpm_limit: 600, tpm_limit: null, cost: { input_micro_usd_per_mtok: 100_000, output_micro_usd_per_mtok: 400_000, cached_input_micro_usd_per_mtok: null }, enabled: true }
const ROUTE = { id: 'r1', model: 'demo', model_id: 'm1', strategy: 'weighted', fallback_models: [], deployments: [DEPLOYMENT], created_at: '' }

describe('catalogue parsing', () => {
  it('parses numbers, capabilities, name=value lines and prices', () => {
    expect(parseWhole('', 'Weight', 0, 10)).toEqual({ value: null })
    expect(parseWhole('11', 'Weight', 0, 10)).toEqual({ error: 'Weight must be a whole number from 0 to 10.' })
    expect(parseWhole('1.5', 'Weight', 0, 10).error).toBeDefined()
    expect(parseCapabilities('vision, tools vision')).toEqual({ value: ['vision', 'tools'] })
    expect(parseCapabilities('Vision').error).toBe('“Vision” is not a capability name (lower-case letters, digits and _ . -).')
    expect(parsePairs('region=us-east-1\n\napi_version = 2024-10-21', 'setting')).toEqual({ value: { region: 'us-east-1', api_version: '2024-10-21' } })
    expect(parsePairs('region', 'setting')).toEqual({ error: 'Line 1: write each setting as name=value (the name starts with a letter).' })
    expect(microToUsdText(150_000)).toBe('0.15')
    expect(microToUsdText(2_000_000)).toBe('2')
    expect(microToUsdText(1)).toBe('0.000001')
  })

  it('builds a provider change: credentials only when typed, an emptied base URL cleared', () => {
    const texts = { base_url: '', settings: 'organization=org-2', api_key: '', credentials: '' }
    expect(providerChange(PROVIDER, texts, true).change).toEqual({ settings: { organization: 'org-2' }, enabled: true, clear_base_url: true })
    expect(providerChange(PROVIDER, { ...texts, base_url: 'https://eu.example.com', api_key: 'sk-new' }, false).change).toEqual({
      settings: { organization: 'org-2' }, enabled: false, base_url: 'https://eu.example.com', credentials: { api_key: 'sk-new' },
    })
    expect(providerChange(PROVIDER, { ...texts, base_url: 'ftp://x', credentials: 'secret_access_key=' }, true)).toEqual({
      errors: { base_url: 'The base URL starts with http:// or https://.', settings: undefined, credentials: 'A credential needs a value after the =.' },
    })
  })

  it('builds a deployment change: emptied caps are 0, emptied cost is cleared, and says what is wrong', () => {
    const texts = { ...deploymentTexts(DEPLOYMENT), weight: '3', rpm: '', input: '', output: '' }
    expect(deploymentChange(DEPLOYMENT, texts, true).change).toEqual({ weight: 3, priority: 0, enabled: true, rpm_limit: 0, tpm_limit: 0, clear_cost: true })
    const errors = deploymentChange(DEPLOYMENT, { ...texts, weight: '', priority: '1001', input: '0.1' }, true).errors
    expect(errors).toMatchObject({
      weight: 'The weight is a whole number from 0 (no traffic) to 10,000.',
      priority: 'The priority must be a whole number from 0 to 1,000.',
      output: 'Enter the output cost in USD per million tokens.',
    })
  })

  it('refuses unknown and self fallbacks on a route', () => {
    expect(routeChange(ROUTE, 'lowest_cost', 'mini, demo-b', ['demo', 'mini', 'demo-b'])).toEqual({ change: { strategy: 'lowest_cost', fallback_models: ['mini', 'demo-b'] } })
    expect(routeChange(ROUTE, 'weighted', 'demo', ['demo'])).toEqual({ error: 'A route cannot fall back to its own model.' })
    expect(routeChange(ROUTE, 'weighted', 'nope', ['demo'])).toEqual({ error: 'No model is named “nope”.' })
  })
})

describe('edit forms', () => {
  it('edits a model’s pricing, context window and capabilities, and shows a refusal', async () => {
    const { client, calls } = clientFor({
      'GET /api/v1/models': [{ items: [MODEL] }],
      'PATCH /api/v1/models/m1': [json(422, { error: { code: 'invalid_input', message: 'pricing is out of range' } }), MODEL],
    })
    renderWith(client, <ModelsPage />)
    await userEvent.click(await screen.findByRole('button', { name: 'Edit demo' }))
    const form = screen.getByRole('form', { name: 'Edit model demo' })
    const input = within(form).getByLabelText('Input price (USD / 1M tokens)')
    expect(input).toHaveValue('0.15')
    await userEvent.clear(input)
    await userEvent.type(input, 'cheap')
    await userEvent.click(within(form).getByRole('button', { name: 'Save model' }))
    expect(input).toHaveAttribute('aria-invalid', 'true')
    expect(within(form).getByText('Enter a price in USD per million tokens, e.g. 0.15 (up to 6 decimals).')).toBeInTheDocument()
    expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(0)

    await userEvent.clear(input)
    await userEvent.type(input, '0.2')
    await userEvent.clear(within(form).getByLabelText('Context window (tokens)'))
    await userEvent.type(within(form).getByLabelText('Context window (tokens)'), '128000')
    await userEvent.type(within(form).getByLabelText('Capabilities'), ', vision')
    await userEvent.click(within(form).getByRole('button', { name: 'Save model' }))
    expect(await within(form).findByRole('alert')).toHaveTextContent('pricing is out of range')
    await userEvent.click(within(form).getByRole('button', { name: 'Save model' }))
    await vi.waitFor(() => expect(screen.queryByRole('form', { name: 'Edit model demo' })).not.toBeInTheDocument())
    const patches = calls.filter((c) => c.method === 'PATCH')
    expect(patches[1].body).toEqual({
      owned_by: 'gateway', capabilities: ['tools', 'vision'], enabled: true, context_window: 128000,
      pricing: { input_micro_usd_per_mtok: 200_000, output_micro_usd_per_mtok: 600_000, cached_input_micro_usd_per_mtok: null, reasoning_micro_usd_per_mtok: null },
    })
  })

  it('replaces a provider’s credentials without ever showing them', async () => {
    const { client, calls } = clientFor({ 'GET /api/v1/providers': [{ items: [PROVIDER] }], 'PATCH /api/v1/providers/p1': [PROVIDER] })
    renderWith(client, <ProvidersPage />)
    await userEvent.click(await screen.findByRole('button', { name: 'Edit openai-main' }))
    const form = screen.getByRole('form', { name: 'Edit provider openai-main' })
    expect(within(form).getByLabelText('New API key')).toHaveValue('')
    expect(within(form).getByLabelText('Settings')).toHaveValue('organization=org-1')
    await userEvent.type(within(form).getByLabelText('New API key'), 'sk-rotated')
    await userEvent.click(within(form).getByRole('button', { name: 'Save provider' }))
    await vi.waitFor(() => expect(calls.some((c) => c.method === 'PATCH')).toBe(true))
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({
      settings: { organization: 'org-1' }, enabled: true, base_url: 'https://api.example.com/v1', credentials: { api_key: 'sk-rotated' },
    })
  })

  it('edits a deployment and a route', async () => {
    const { client, calls } = clientFor({
      'GET /api/v1/routes': [{ items: [ROUTE] }],
      'GET /api/v1/models': [{ items: [MODEL, { ...MODEL, id: 'm2', name: 'mini' }] }],
      'GET /api/v1/providers': [{ items: [PROVIDER] }],
      'PATCH /api/v1/routes/r1/deployments/d1': [DEPLOYMENT],
      'PATCH /api/v1/routes/r1': [ROUTE],
    })
    renderWith(client, <RoutesPage />)
    expect(await screen.findByText(/weight 1, priority 0, 600 rpm/)).toBeInTheDocument()
    await userEvent.click(screen.getByRole('button', { name: 'Edit deployment openai-main gpt-x of demo' }))
    const form = screen.getByRole('form', { name: 'Edit deployment openai-main → gpt-x' })
    await userEvent.clear(within(form).getByLabelText('Priority'))
    await userEvent.type(within(form).getByLabelText('Priority'), '2')
    await userEvent.click(within(form).getByLabelText('In service'))
    await userEvent.click(within(form).getByRole('button', { name: 'Save deployment' }))
    await vi.waitFor(() => expect(calls.some((c) => c.method === 'PATCH')).toBe(true))
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({
      weight: 1, priority: 2, enabled: false, rpm_limit: 600, tpm_limit: 0,
      cost: { input_micro_usd_per_mtok: 100_000, output_micro_usd_per_mtok: 400_000, cached_input_micro_usd_per_mtok: null },
    })

    await userEvent.click(await screen.findByRole('button', { name: 'Edit route demo' }))
    const route = screen.getByRole('form', { name: 'Edit route demo' })
    await userEvent.selectOptions(within(route).getByLabelText('Strategy'), 'lowest_cost')
    await userEvent.type(within(route).getByLabelText('Fallback models'), 'mini')
    await userEvent.click(within(route).getByRole('button', { name: 'Save route' }))
    await vi.waitFor(() => expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(2))
    expect(calls.filter((c) => c.method === 'PATCH')[1]).toMatchObject({ url: '/api/v1/routes/r1', body: { strategy: 'lowest_cost', fallback_models: ['mini'] } })
  })

  it('sets default model entitlements, refusing unknown models', async () => {
    const { client, calls } = clientFor({
      'GET /api/v1/settings/default-model-entitlements': [{ models: [] }],
      'GET /api/v1/models': [{ items: [MODEL] }],
      'PUT /api/v1/settings/default-model-entitlements': [{ models: ['demo'] }],
      'GET /api/v1/settings/rate-limit-defaults': [{}],
    })
    renderWith(client, <SettingsPage />)
    const field = await screen.findByLabelText('Models personal tenants may use')
    await userEvent.type(field, 'demo, ghost')
    await userEvent.click(screen.getByRole('button', { name: 'Save entitlements' }))
    expect(screen.getByText('No model is named “ghost”.')).toBeInTheDocument()
    await userEvent.clear(field)
    await userEvent.type(field, 'demo')
    await userEvent.click(screen.getByRole('button', { name: 'Save entitlements' }))
    expect(await screen.findByText('Saved.')).toBeInTheDocument()
    expect(calls.filter((c) => c.method === 'PUT').map((c) => c.body)).toEqual([{ models: ['demo'] }])
  })

  it('limits a tenant’s models and suspends it', async () => {
    const tenant = { id: 't1', name: 'acme', status: 'active', is_personal: false, allowed_models: [], created_at: '', updated_at: '' }
    const { client, calls } = clientFor({
      'GET /api/v1/tenants': [{ items: [tenant], total: 1, limit: 200, offset: 0 }],
      'GET /api/v1/models': [{ items: [MODEL] }],
      'PATCH /api/v1/tenants/t1': [tenant],
    })
    renderWith(client, <TenantsPage />)
    await userEvent.click(await screen.findByRole('button', { name: 'Edit models of acme' }))
    await userEvent.type(screen.getByLabelText('Allowed models'), 'demo')
    await userEvent.click(screen.getByRole('button', { name: 'Save models' }))
    await vi.waitFor(() => expect(screen.queryByRole('form', { name: 'Models acme may use' })).not.toBeInTheDocument())
    await userEvent.click(screen.getByRole('button', { name: 'Suspend acme' }))
    await vi.waitFor(() => expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(2))
    expect(calls.filter((c) => c.method === 'PATCH').map((c) => c.body)).toEqual([{ allowed_models: ['demo'] }, { status: 'suspended' }])
  })
})

describe('send test alert', () => {
  const channel = { id: 'c1', tenant_id: 't1', name: 'ops', kind: 'webhook', target: 'https://hooks.example.com/x', has_secret: true, enabled: true, created_at: '', updated_at: '' }

  it('says whether the channel took the test alert, and why not', async () => {
    const { client, calls } = clientFor({
      'GET /api/v1/tenants/t1/alert-channels': [{ items: [channel] }],
      'POST /api/v1/alert-channels/c1/test': [
        json(200, { delivered: true, error: null }),
        json(200, { delivered: false, error: 'webhook refused the alert with 403' }),
        json(503, { error: { code: 'accounting_unavailable', message: 'the accounting service is unreachable' } }),
      ],
    })
    renderWith(client, <AlertChannels tenantId="t1" />)
    const button = await screen.findByRole('button', { name: 'Send a test alert to ops' })
    await userEvent.click(button)
    expect(await screen.findByRole('status')).toHaveTextContent('Test alert delivered to “ops”.')
    await userEvent.click(button)
    expect(await screen.findByText('Test alert to “ops” was not delivered: webhook refused the alert with 403.')).toBeInTheDocument()
    await userEvent.click(button)
    expect(await screen.findByRole('alert')).toHaveTextContent('the accounting service is unreachable')
    expect(screen.queryByRole('status')).not.toBeInTheDocument()
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.url)).toEqual(Array(3).fill('/api/v1/alert-channels/c1/test'))
  })
})
