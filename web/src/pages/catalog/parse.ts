// Pure parsing of the catalogue edit forms: each function turns what was typed into the value
// control expects, or the sentence that says what is wrong.

export type Parsed<T> = { value: T; error?: undefined } | { value?: undefined; error: string }

/** A whole number in [min, max]; empty is `empty` (null: "no value"). */
export function parseWhole(text: string, label: string, min: number, max: number, empty: number | null = null): Parsed<number | null> {
  const trimmed = text.trim()
  if (!trimmed) return { value: empty }
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < min || Number(trimmed) > max) {
    return { error: `${label} must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}.` }
  }
  return { value: Number(trimmed) }
}

/** A comma- or space-separated list, trimmed, without blanks or repeats. */
export function splitList(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean))]
}

const CAPABILITY = /^[a-z][a-z0-9_.-]*$/

/** Model capabilities such as `vision, tools`: lower-case names. */
export function parseCapabilities(text: string): Parsed<string[]> {
  const items = splitList(text)
  const bad = items.find((c) => !CAPABILITY.test(c) || c.length > 64)
  if (bad) return { error: `“${bad}” is not a capability name (lower-case letters, digits and _ . -).` }
  if (items.length > 50) return { error: 'At most 50 capabilities.' }
  return { value: items }
}

const SETTING_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/

/** `name=value` lines (blank lines ignored) as a map; the line that is wrong otherwise. */
export function parsePairs(text: string, what: string): Parsed<Record<string, string>> {
  const pairs: Record<string, string> = {}
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (!line) continue
    const eq = line.indexOf('=')
    const name = eq > 0 ? line.slice(0, eq).trim() : ''
    if (!SETTING_NAME.test(name)) return { error: `Line ${index + 1}: write each ${what} as name=value (the name starts with a letter).` }
    pairs[name] = line.slice(eq + 1).trim()
  }
  return { value: pairs }
}

/** A map as `name=value` lines, for a textarea. */
export function pairsText(pairs: Record<string, string>): string {
  return Object.entries(pairs)
    .map(([name, value]) => `${name}=${value}`)
    .join('\n')
}

/** Integer micro-USD per million tokens as the USD text a form shows (exact, no trailing zeros). */
export function microToUsdText(micro: number | null | undefined): string {
  if (micro === null || micro === undefined) return ''
  const whole = Math.floor(micro / 1_000_000)
  const fraction = String(micro % 1_000_000).padStart(6, '0').replace(/0+$/, '')
  return fraction ? `${whole}.${fraction}` : String(whole)
}

/** True when `errors` holds at least one message. */
export function hasErrors(errors: Record<string, string | undefined>): boolean {
  return Object.values(errors).some(Boolean)
}
