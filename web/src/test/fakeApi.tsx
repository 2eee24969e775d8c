// A fake control for page tests: answers by "METHOD path" and records what was sent.
import { render } from '@testing-library/react'
import type { ReactNode } from 'react'
import { vi } from 'vitest'
import { ApiClient } from '../api/client'
import { ApiContext } from '../api/context'

export const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

export type Call = { method: string; url: string; body: unknown }

/** A client whose fetch answers by "METHOD path" (queues; the last answer repeats). */
export function clientFor(routes: Record<string, unknown[]>) {
  const calls: Call[] = []
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input)
    const method = init?.method ?? 'GET'
    calls.push({ method, url, body: init?.body ? JSON.parse(String(init.body)) : undefined })
    const queue = routes[`${method} ${url.split('?')[0]}`]
    if (!queue) return json(500, { error: { code: 'unexpected', message: `unexpected ${method} ${url}` } })
    const next = queue.length > 1 ? queue.shift() : queue[0]
    return next instanceof Response ? next : json(method === 'POST' ? 201 : 200, next)
  })
  return { client: new ApiClient({ fetch: fn as unknown as typeof fetch, csrfToken: () => null }), calls }
}

export function queryOf(url: string): Record<string, string> {
  const query: Record<string, string> = {}
  new URL(url, 'http://x').searchParams.forEach((value, name) => (query[name] = value))
  return query
}

export function renderWith(client: ApiClient, ui: ReactNode) {
  return render(<ApiContext.Provider value={client}>{ui}</ApiContext.Provider>)
}

