import { act, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { clientFor, json, renderWith } from '../test/fakeApi'
import { HealthPage } from './Health'

const deployment = (status: string, ok: boolean[]) => ({
  deployment_id: `d-${status}`, model_id: 'm1', model: 'gpt-4o-mini', provider_id: 'p1', provider: `openai-${status}`,
  provider_type: 'openai', upstream_model: 'gpt-4o-mini', priority: 0, in_service: status !== 'unhealthy', status,
  checked_at: '2026-11-26T08:00:00Z', cooldown_until: null, prober: 'health-0',
  recent: ok.map((passed) => ({ at: '2026-11-26T08:00:00Z', ok: passed, status_code: passed ? 200 : 503, latency_ms: 40, error: passed ? null : 'HTTP 503' })),
})

afterEach(() => {
  vi.useRealTimers()
})

describe('Provider health', () => {
  it('shows each deployment with its probes and refreshes live, keeping data when a refresh fails', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    const { client, calls } = clientFor({
      'GET /api/v1/health/deployments': [
        { items: [deployment('healthy', [true, true]), deployment('unhealthy', [true, false])] },
        json(503, { error: { code: 'health_unavailable', message: 'the health service is unreachable' } }),
        { items: [deployment('healthy', [true, true])] },
      ],
    })
    renderWith(client, <HealthPage />)
    const table = await screen.findByRole('table', { name: 'Deployment health' })
    expect(within(table).getAllByRole('row')).toHaveLength(3)
    expect(within(table).getByRole('img', { name: '1 of 2 recent probes passed' })).toBeInTheDocument()
    const summary = screen.getByRole('region', { name: 'Health summary' })
    expect(within(summary).getByText('Unhealthy').nextSibling).toHaveTextContent('1')

    await act(async () => {
      await vi.advanceTimersByTimeAsync(10_000)
    })
    expect(await screen.findByText('the health service is unreachable')).toBeInTheDocument()
    expect(screen.getByRole('table', { name: 'Deployment health' })).toBeInTheDocument()

    await act(async () => {
      await vi.advanceTimersByTimeAsync(10_000)
    })
    await vi.waitFor(() => expect(within(screen.getByRole('table', { name: 'Deployment health' })).getAllByRole('row')).toHaveLength(2))
    expect(screen.queryByText('the health service is unreachable')).toBeNull()
    expect(calls).toHaveLength(3)
  })
})
