import type { ApiKey } from '../../api/client'

export const LIMIT_FIELDS = [
  { name: 'rpm_limit', label: 'Requests per minute' },
  { name: 'tpm_limit', label: 'Tokens per minute' },
  { name: 'max_parallel', label: 'Parallel requests' },
] as const

export type LimitName = (typeof LIMIT_FIELDS)[number]['name']
export type LimitTexts = Record<LimitName, string>

export const NO_LIMITS: LimitTexts = { rpm_limit: '', tpm_limit: '', max_parallel: '' }

/** An optional whole-number limit typed in a form: null when empty, or the reason it is wrong. */
export function parseLimit(text: string, label: string): { value: number | null; error?: string } {
  if (!text.trim()) return { value: null }
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) return { value: null, error: `${label} must be a whole number above 0.` }
  return { value: Number(text) }
}

/** All three limits parsed, with an error per field that is wrong. */
export function parseLimits(texts: LimitTexts): { values: Record<LimitName, number | null>; errors: Partial<Record<LimitName, string>> } {
  const values = {} as Record<LimitName, number | null>
  const errors: Partial<Record<LimitName, string>> = {}
  for (const { name, label } of LIMIT_FIELDS) {
    const parsed = parseLimit(texts[name], label)
    values[name] = parsed.value
    if (parsed.error) errors[name] = parsed.error
  }
  return { values, errors }
}

/** A key form's name and limits checked: the limit values, and an error per field that is wrong. */
export function checkKeyFields(name: string, limits: LimitTexts): { values: Record<LimitName, number | null>; errors: Record<string, string | undefined> } {
  const { values, errors } = parseLimits(limits)
  return { values, errors: { ...errors, name: name.trim() ? undefined : 'A key needs a name, such as the app that will use it.' } }
}

/** The limit overrides of a key or a tenant (null: the default applies). */
export type LimitOverrides = Pick<ApiKey, LimitName>

/** A key's or tenant's limits as form texts (empty for "the default"). */
export function limitTexts(key: LimitOverrides): LimitTexts {
  return {
    rpm_limit: key.rpm_limit?.toString() ?? '',
    tpm_limit: key.tpm_limit?.toString() ?? '',
    max_parallel: key.max_parallel?.toString() ?? '',
  }
}

/** For an update: control removes an override sent as 0, and keeps one that is omitted. */
export function limitChanges(key: LimitOverrides, values: Record<LimitName, number | null>): Partial<Record<LimitName, number>> {
  const changes: Partial<Record<LimitName, number>> = {}
  for (const { name } of LIMIT_FIELDS) {
    if (values[name] !== key[name]) changes[name] = values[name] ?? 0
  }
  return changes
}

/** The key's own limits in a few words ("600 rpm · 8 parallel"), or "defaults". */
export function limitSummary(key: LimitOverrides): string {
  const units: Record<LimitName, string> = { rpm_limit: 'rpm', tpm_limit: 'tpm', max_parallel: 'parallel' }
  const set = LIMIT_FIELDS.filter(({ name }) => key[name] !== null).map(({ name }) => `${key[name]} ${units[name]}`)
  return set.length ? set.join(' · ') : 'defaults'
}

export function keyStatus(key: ApiKey): 'revoked' | 'disabled' | 'expired' | 'active' {
  if (key.revoked_at) return 'revoked'
  if (key.disabled) return 'disabled'
  if (key.expires_at && new Date(key.expires_at) < new Date()) return 'expired'
  return 'active'
}

export function splitModels(text: string): string[] {
  return text.split(',').map((m) => m.trim()).filter(Boolean)
}
