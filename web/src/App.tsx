import { lazy, Suspense, useEffect, useMemo, useRef, useState } from 'react'
import { ApiClient } from './api/client'
import { ApiContext } from './api/context'
import { AuditPage } from './pages/Audit'
import { KeysPage } from './pages/Keys'
import { ModelsPage } from './pages/Models'
import { ProvidersPage } from './pages/Providers'
import { RoutesPage } from './pages/Routes'
import { SignIn } from './pages/SignIn'
import { TenantsPage } from './pages/Tenants'
import { Loading } from './components/States'

// recharts is large: load the usage page (and its chart) only when it is opened.
const UsagePage = lazy(() => import('./pages/Usage').then((m) => ({ default: m.UsagePage })))

const NAV = [
  { path: '/tenants', label: 'Tenants' },
  { path: '/models', label: 'Models' },
  { path: '/providers', label: 'Providers' },
  { path: '/routes', label: 'Routes' },
  { path: '/usage', label: 'Usage' },
  { path: '/audit', label: 'Audit log' },
]

function currentPath(): string {
  return window.location.hash.replace(/^#/, '') || '/tenants'
}

function Page({ path }: { path: string }) {
  const keys = /^\/tenants\/([^/]+)\/keys$/.exec(path)
  if (keys) return <KeysPage tenantId={decodeURIComponent(keys[1])} />
  switch (path) {
    case '/tenants':
      return <TenantsPage />
    case '/models':
      return <ModelsPage />
    case '/providers':
      return <ProvidersPage />
    case '/routes':
      return <RoutesPage />
    case '/usage':
      return (
        <Suspense fallback={<Loading />}>
          <UsagePage />
        </Suspense>
      )
    case '/audit':
      return <AuditPage />
    default:
      return (
        <div className="state state-empty" role="alert">
          There is no page at <code>{path}</code>. <a href="#/tenants">Go to tenants</a>.
        </div>
      )
  }
}

export function App({ client }: { client?: ApiClient }) {
  const [signedIn, setSignedIn] = useState(false)
  const [notice, setNotice] = useState<string | null>(null)
  const [path, setPath] = useState(currentPath)
  const main = useRef<HTMLElement>(null)
  const api = useMemo(
    () =>
      client ??
      new ApiClient({
        onUnauthorized: () => {
          setSignedIn(false)
          setNotice('Your session has ended. Sign in again to continue.')
        },
      }),
    [client],
  )

  useEffect(() => {
    const onHash = () => setPath(currentPath())
    window.addEventListener('hashchange', onHash)
    return () => window.removeEventListener('hashchange', onHash)
  }, [])

  useEffect(() => {
    // Move focus to the new page so keyboard and screen-reader users land on its heading.
    main.current?.focus()
  }, [path])

  if (!signedIn) {
    return (
      <ApiContext.Provider value={api}>
        <SignIn notice={notice} onSignedIn={() => { setNotice(null); setSignedIn(true) }} />
      </ApiContext.Provider>
    )
  }

  const section = '/' + (path.split('/')[1] ?? '')
  return (
    <ApiContext.Provider value={api}>
      <a className="skip-link" href="#main" onClick={(e) => { e.preventDefault(); main.current?.focus() }}>Skip to content</a>
      <div className="shell">
        <aside className="sidebar">
          <div className="brand"><span className="brand-mark" aria-hidden="true">◆</span> Model Gateway</div>
          <nav aria-label="Admin sections">
            <ul>
              {NAV.map((item) => (
                <li key={item.path}>
                  <a href={`#${item.path}`} aria-current={section === item.path ? 'page' : undefined}>{item.label}</a>
                </li>
              ))}
            </ul>
          </nav>
          <button type="button" className="button secondary signout"
            onClick={() => { api.signOut(); setNotice('You have signed out.'); setSignedIn(false) }}>
            Sign out
          </button>
        </aside>
        <main id="main" ref={main} tabIndex={-1} className="content">
          <Page path={path} />
        </main>
      </div>
    </ApiContext.Provider>
  )
}
