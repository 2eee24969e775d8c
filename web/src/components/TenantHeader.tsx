import type { ReactNode } from 'react'
import { useApi, useUser } from '../api/context'
import { useAsync } from './useAsync'

const TABS = [
  { page: 'keys', label: 'API keys' },
  { page: 'members', label: 'Members' },
  { page: 'budgets', label: 'Budgets' },
] as const

/** The tenant's name for headings and captions ("tenant" until it is loaded). */
export function useTenantName(tenantId: string): string {
  const api = useApi()
  const [tenant] = useAsync(() => api.getTenant(tenantId), [api, tenantId])
  return tenant.status === 'ready' ? tenant.data.name : 'tenant'
}

/** The header of a tenant's pages: breadcrumb, title, intro, and tabs between keys, members and budgets. */
export function TenantHeader({ tenantId, tenantName, page, title, children }: {
  tenantId: string
  tenantName: string
  page: (typeof TABS)[number]['page']
  title: string
  children: ReactNode
}) {
  // Tenant admins who are not platform admins reach their tenants from their profile page.
  const up = useUser()?.platform_admin === false ? { href: '#/me', label: 'My tenants' } : { href: '#/tenants', label: 'Tenants' }
  return (
    <header className="page-header">
      <p className="breadcrumb"><a href={up.href}>{up.label}</a> / {tenantName}</p>
      <h1>{title}</h1>
      <p>{children}</p>
      <nav aria-label="Tenant sections" className="tabs">
        {TABS.map((tab) => (
          <a key={tab.page} href={`#/tenants/${tenantId}/${tab.page}`} aria-current={tab.page === page ? 'page' : undefined}>{tab.label}</a>
        ))}
      </nav>
    </header>
  )
}
