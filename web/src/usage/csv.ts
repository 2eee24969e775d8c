import type { UsageGroup } from '../api/client'

/** Exact decimal USD of integer micro-USD (no float rounding: 1234 -> "0.001234"). */
export function microToUsd(micro: number): string {
  const sign = micro < 0 ? '-' : ''
  const digits = String(Math.abs(Math.trunc(micro))).padStart(7, '0')
  return `${sign}${digits.slice(0, -6)}.${digits.slice(-6)}`
}

// A cell a spreadsheet would run as a formula (CSV injection): quoted with a leading apostrophe.
const FORMULA = /^[=+\-@\t\r]/

function cell(value: string | number): string {
  if (typeof value === 'number') return String(value)
  const text = FORMULA.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(text) || text !== value ? `"${text.replaceAll('"', '""')}"` : text
}

/** RFC 4180 CSV: comma-separated, CRLF line ends, quotes doubled inside quoted cells. */
export function toCsv(rows: (string | number)[][]): string {
  return rows.map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n'
}

export const CSV_HEADER = [
  'requests',
  'prompt_tokens',
  'completion_tokens',
  'errors',
  'cost_usd',
  'cost_micro_usd',
]

/** A breakdown as CSV: the group's id, its readable name, then the totals. */
export function usageCsv(groupBy: string, groups: UsageGroup[], label: (key: string) => string): string {
  return toCsv([
    [groupBy, 'name', ...CSV_HEADER],
    ...groups.map((g) => [
      g.key,
      label(g.key),
      g.usage.requests,
      g.usage.prompt_tokens,
      g.usage.completion_tokens,
      g.usage.errors,
      microToUsd(g.usage.cost_micro_usd),
      g.usage.cost_micro_usd,
    ]),
  ])
}

/** Offer `text` as a file download (a Blob URL, released right after the click). */
export function downloadText(filename: string, text: string, type = 'text/csv;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 0)
}
