import { describe, expect, it } from 'vitest'
import { microToUsd, toCsv, usageCsv } from './csv'
import { breakdownQuery, filtersFromSearch, filtersProblem, filtersToSearch, type UsageFilters } from './query'
import { fillDays, percentile, sumGroups, topGroups } from './stats'
import { addDays, dayIn, daysBetween, zonedMidnight } from './time'

const FILTERS: UsageFilters = {
  from: '2026-03-28',
  to: '2026-03-29',
  timeZone: 'Europe/Paris',
  groupBy: 'day',
  tenantId: '',
  keyId: '',
  model: '',
}

const usage = (requests: number, cost: number, errors = 0) => ({
  requests,
  prompt_tokens: requests * 10,
  completion_tokens: requests * 2,
  cost_micro_usd: cost,
  errors,
})

describe('days in a chosen timezone', () => {
  it('starts a day at local midnight, across a daylight-saving change', () => {
    expect(zonedMidnight('2026-03-28', 'Europe/Paris').toISOString()).toBe('2026-03-27T23:00:00.000Z')
    // Paris moves to summer time in the night of 29 March 2026: the next midnight is UTC+2.
    expect(zonedMidnight('2026-03-30', 'Europe/Paris').toISOString()).toBe('2026-03-29T22:00:00.000Z')
    expect(zonedMidnight('2026-01-01', 'Asia/Kolkata').toISOString()).toBe('2025-12-31T18:30:00.000Z')
    expect(zonedMidnight('2026-01-01', 'America/Los_Angeles').toISOString()).toBe('2026-01-01T08:00:00.000Z')
    expect(zonedMidnight('2026-01-01', 'UTC').toISOString()).toBe('2026-01-01T00:00:00.000Z')
  })

  it('names the day of an instant and walks calendar days', () => {
    expect(dayIn(new Date('2026-01-01T20:00:00Z'), 'Asia/Tokyo')).toBe('2026-01-02')
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01')
    expect(daysBetween('2026-12-30', '2027-01-02')).toEqual(['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02'])
    expect(daysBetween('2026-01-02', '2026-01-01')).toEqual([])
  })
})

describe('usage explorer filters', () => {
  it('turn into a breakdown query over whole days in the chosen timezone', () => {
    expect(breakdownQuery({ ...FILTERS, groupBy: 'model', tenantId: 't-1', model: 'gpt-4o-mini' })).toEqual({
      group_by: 'model',
      tenant_id: 't-1',
      key_id: undefined,
      model: 'gpt-4o-mini',
      start: '2026-03-27T23:00:00.000Z',
      end: '2026-03-29T22:00:00.000Z',
      timezone: 'Europe/Paris',
    })
  })

  it('say what is wrong before anything is sent', () => {
    expect(filtersProblem(FILTERS, '2026-04-01')).toBeNull()
    expect(filtersProblem({ ...FILTERS, from: '' }, '2026-04-01')).toBe('Choose both a start and an end day.')
    expect(filtersProblem({ ...FILTERS, from: '2026-03-30' }, '2026-04-01')).toBe('The start day must not be after the end day.')
    expect(filtersProblem(FILTERS, '2026-03-01')).toBe('The start day is in the future.')
  })

  it('round-trip through the URL, ignoring an unknown group-by', () => {
    const filters = { ...FILTERS, groupBy: 'provider' as const, keyId: 'k-1' }
    const search = filtersToSearch(filters)
    expect(search).not.toContain('tenantId')
    expect(filtersFromSearch(search, FILTERS)).toEqual(filters)
    expect(filtersFromSearch('groupBy=user', FILTERS).groupBy).toBe('day')
  })
})

describe('CSV export', () => {
  it('writes exact dollars from micro-USD', () => {
    expect(microToUsd(0)).toBe('0.000000')
    expect(microToUsd(1234)).toBe('0.001234')
    expect(microToUsd(12_500_000)).toBe('12.500000')
    expect(microToUsd(9_007_199_254_740_991)).toBe('9007199254.740991')
  })

  it('quotes what needs quoting and defuses spreadsheet formulas', () => {
    expect(toCsv([['a', 'b,c', 'say "hi"', 'two\nlines', 3]])).toBe('a,"b,c","say ""hi""","two\nlines",3\r\n')
    expect(toCsv([['=HYPERLINK("x")', '@SUM(A1)', '+1', 'ok']])).toBe(`"'=HYPERLINK(""x"")","'@SUM(A1)","'+1",ok\r\n`)
  })

  it('has a header, one row per group, ids and names', () => {
    const csv = usageCsv('tenant', [{ key: 't-1', usage: usage(3, 1234, 1) }], (key) => (key === 't-1' ? 'acme, inc' : key))
    expect(csv.split('\r\n')).toEqual([
      'tenant,name,requests,prompt_tokens,completion_tokens,errors,cost_usd,cost_micro_usd',
      't-1,"acme, inc",3,30,6,1,0.001234,1234',
      '',
    ])
  })
})

describe('dashboard figures', () => {
  it('sums groups, ranks the top ones and fills quiet days', () => {
    const groups = [
      { key: 'a', usage: usage(1, 100) },
      { key: 'b', usage: usage(5, 900, 2) },
      { key: 'c', usage: usage(9, 100) },
    ]
    expect(sumGroups(groups)).toEqual({ requests: 15, prompt_tokens: 150, completion_tokens: 30, cost_micro_usd: 1100, errors: 2 })
    expect(sumGroups([])).toEqual({ requests: 0, prompt_tokens: 0, completion_tokens: 0, cost_micro_usd: 0, errors: 0 })
    expect(topGroups(groups, 2).map((g) => g.key)).toEqual(['b', 'c'])
    const days = fillDays([{ key: '2026-01-02', usage: usage(2, 5) }], ['2026-01-01', '2026-01-02', '2026-01-03'])
    expect(days.map((d) => [d.key, d.usage.requests])).toEqual([['2026-01-01', 0], ['2026-01-02', 2], ['2026-01-03', 0]])
  })

  it('takes nearest-rank percentiles of latencies', () => {
    const latencies = Array.from({ length: 100 }, (_, i) => 100 - i)
    expect(percentile(latencies, 50)).toBe(50)
    expect(percentile(latencies, 99)).toBe(99)
    expect(percentile([7], 99)).toBe(7)
    expect(percentile([], 50)).toBeNull()
  })
})
