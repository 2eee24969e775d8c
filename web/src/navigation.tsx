// Which pages exist, who sees them in the sidebar, and which may be opened at all.
// Platform admins get the console plus their own account; everyone else gets the user portal
// (their keys, usage and tenants). Tenant pages stay reachable for tenant owners and admins
// from "My account": control's tenant roles decide what they may do there.
import { lazy, Suspense, type ReactNode } from 'react'
import type { User } from './api/client'
import { Loading } from './components/States'
import { AuditPage } from './pages/Audit'
import { BudgetsPage } from './pages/Budgets'
import { HealthPage } from './pages/Health'
import { KeysPage } from './pages/Keys'
import { MembersPage } from './pages/Members'
import { ModelsPage } from './pages/Models'
import { MyKeysPage } from './pages/MyKeys'
import { MyUsagePage } from './pages/MyUsage'
import { ProfilePage } from './pages/Profile'
import { ProvidersPage } from './pages/Providers'
import { RoutesPage } from './pages/Routes'
import { SettingsPage } from './pages/Settings'
import { TenantsPage } from './pages/Tenants'
import { UsersPage } from './pages/Users'

// recharts is large: load the pages with charts only when they are opened.
const DashboardPage = lazy(() => import('./pages/Dashboard').then((m) => ({ default: m.DashboardPage })))
const UsageExplorerPage = lazy(() => import('./pages/UsageExplorer').then((m) => ({ default: m.UsageExplorerPage })))

const charted = (page: ReactNode) => <Suspense fallback={<Loading />}>{page}</Suspense>

export type Audience = 'platform-admin' | 'everyone'

interface PageRoute {
  pattern: RegExp
  audience: Audience
  render: (params: string[]) => ReactNode
}

export interface NavItem {
  path: string
  label: string
}

export interface NavSection {
  label: string
  items: NavItem[]
}

const ADMIN_NAV: NavSection = {
  label: 'Admin',
  items: [
    { path: '/dashboard', label: 'Dashboard' },
    { path: '/usage', label: 'Usage explorer' },
    { path: '/tenants', label: 'Tenants' },
    { path: '/users', label: 'Users' },
    { path: '/models', label: 'Models' },
    { path: '/providers', label: 'Providers' },
    { path: '/routes', label: 'Routes' },
    { path: '/health', label: 'Provider health' },
    { path: '/audit', label: 'Audit log' },
    { path: '/settings', label: 'Settings' },
  ],
}

const ACCOUNT_NAV: NavSection = {
  label: 'My account',
  items: [
    { path: '/me/keys', label: 'My keys' },
    { path: '/me/usage', label: 'My usage' },
    { path: '/me', label: 'Profile and tenants' },
  ],
}

const ROUTES: PageRoute[] = [
  { pattern: /^\/dashboard$/, audience: 'platform-admin', render: () => charted(<DashboardPage />) },
  { pattern: /^\/usage$/, audience: 'platform-admin', render: () => charted(<UsageExplorerPage />) },
  { pattern: /^\/tenants$/, audience: 'platform-admin', render: () => <TenantsPage /> },
  { pattern: /^\/tenants\/([^/]+)\/keys$/, audience: 'everyone', render: ([id]) => <KeysPage tenantId={id} /> },
  { pattern: /^\/tenants\/([^/]+)\/members$/, audience: 'everyone', render: ([id]) => <MembersPage tenantId={id} /> },
  { pattern: /^\/tenants\/([^/]+)\/budgets$/, audience: 'everyone', render: ([id]) => <BudgetsPage tenantId={id} /> },
  { pattern: /^\/users$/, audience: 'platform-admin', render: () => <UsersPage /> },
  { pattern: /^\/models$/, audience: 'platform-admin', render: () => <ModelsPage /> },
  { pattern: /^\/providers$/, audience: 'platform-admin', render: () => <ProvidersPage /> },
  { pattern: /^\/routes$/, audience: 'platform-admin', render: () => <RoutesPage /> },
  { pattern: /^\/health$/, audience: 'platform-admin', render: () => <HealthPage /> },
  { pattern: /^\/audit$/, audience: 'platform-admin', render: () => <AuditPage /> },
  { pattern: /^\/settings$/, audience: 'platform-admin', render: () => <SettingsPage /> },
  { pattern: /^\/me\/keys$/, audience: 'everyone', render: () => <MyKeysPage /> },
  { pattern: /^\/me\/usage$/, audience: 'everyone', render: () => <MyUsagePage /> },
  { pattern: /^\/me$/, audience: 'everyone', render: () => <ProfilePage /> },
]

/** The sidebar sections a user sees. */
export function navFor(user: User): NavSection[] {
  return user.platform_admin ? [ADMIN_NAV, ACCOUNT_NAV] : [ACCOUNT_NAV]
}

/** Where a user lands after signing in. */
export function homeFor(user: User): string {
  return user.platform_admin ? '/dashboard' : '/me/keys'
}

/** The nav item a path belongs to (the longest matching prefix), for aria-current. */
export function activeNavPath(sections: NavSection[], path: string): string | null {
  const paths = sections.flatMap((s) => s.items.map((i) => i.path))
  const matches = paths.filter((p) => path === p || path.startsWith(`${p}/`))
  if (matches.length) return matches.sort((a, b) => b.length - a.length)[0]
  return path.startsWith('/tenants/') && paths.includes('/tenants') ? '/tenants' : null
}

/** Whether `user` may open the page at `path` (an unknown path counts as not). */
export function mayOpen(user: User, path: string): boolean {
  const route = ROUTES.find((r) => r.pattern.test(path))
  return route !== undefined && (route.audience === 'everyone' || user.platform_admin)
}

/** The page at `path` for `user`, or a plain explanation of why there is none. */
export function pageFor(user: User, path: string): ReactNode {
  for (const route of ROUTES) {
    const match = route.pattern.exec(path)
    if (!match) continue
    if (route.audience === 'platform-admin' && !user.platform_admin) {
      return (
        <div className="state state-empty" role="alert">
          <span>This page is for platform admins. <a href={`#${homeFor(user)}`}>Go to your keys</a>.</span>
        </div>
      )
    }
    return route.render(match.slice(1).map(decodeURIComponent))
  }
  return (
    <div className="state state-empty" role="alert">
      <span>There is no page at <code>{path}</code>. <a href={`#${homeFor(user)}`}>Go to the start page</a>.</span>
    </div>
  )
}
