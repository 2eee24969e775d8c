export function formatMicroUsd(micro: number): string {
  return (micro / 1_000_000).toLocaleString('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 6 })
}

/** A tenant's name for people: personal tenants are named by an internal id. */
export function tenantLabel(tenant: { name: string; is_personal: boolean }): string {
  return tenant.is_personal ? 'Personal (just you)' : tenant.name
}

export function formatNumber(value: number): string {
  return value.toLocaleString('en-US')
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—'
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString()
}

/** USD per million tokens (as typed in a form) to integer micro-USD; null when not a price. */
export function usdToMicro(text: string): number | null {
  if (!/^\d+(\.\d{1,6})?$/.test(text.trim())) return null
  return Math.round(Number(text.trim()) * 1_000_000)
}
