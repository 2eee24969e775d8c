import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { ApiClient, type User } from './api/client'
import { ApiContext, UserContext } from './api/context'
import { Loading } from './components/States'
import { activeNavPath, homeFor, mayOpen, navFor, pageFor } from './navigation'
import { SignIn } from './pages/SignIn'

function currentPath(): string {
  return window.location.hash.replace(/^#/, '').split('?')[0]
}

type Session = { phase: 'restoring' } | { phase: 'signed-out'; notice: string | null } | { phase: 'signed-in'; user: User }

export function App({ client }: { client?: ApiClient }) {
  const [session, setSession] = useState<Session>({ phase: 'restoring' })
  const [path, setPath] = useState(currentPath)
  const main = useRef<HTMLElement>(null)
  const api = useMemo(
    () =>
      client ??
      new ApiClient({
        onUnauthorized: () => setSession({ phase: 'signed-out', notice: 'Your session has ended. Sign in again to continue.' }),
      }),
    [client],
  )

  const enter = useCallback(async () => {
    try {
      const user = await api.getMyProfile()
      // Keep the page asked for (a bookmark, a reload) when this user may open it.
      if (!mayOpen(user, currentPath())) window.history.replaceState(null, '', `#${homeFor(user)}`)
      setPath(currentPath())
      setSession({ phase: 'signed-in', user })
    } catch (error) {
      setSession({ phase: 'signed-out', notice: error instanceof Error ? error.message : String(error) })
    }
  }, [api])

  useEffect(() => {
    // A reload keeps the session: the refresh cookie buys a new access token without a password.
    let live = true
    api.refresh().then((restored) => {
      if (!live) return
      if (restored) void enter()
      else setSession({ phase: 'signed-out', notice: null })
    })
    return () => {
      live = false
    }
  }, [api, enter])

  useEffect(() => {
    const onHash = () => setPath(currentPath())
    window.addEventListener('hashchange', onHash)
    return () => window.removeEventListener('hashchange', onHash)
  }, [])

  useEffect(() => {
    // Move focus to the new page so keyboard and screen-reader users land on its heading.
    main.current?.focus()
  }, [path])

  if (session.phase === 'restoring') return <Loading label="Restoring your session…" />
  if (session.phase === 'signed-out') {
    return (
      <ApiContext.Provider value={api}>
        <SignIn notice={session.notice} onSignedIn={() => void enter()} />
      </ApiContext.Provider>
    )
  }

  const { user } = session
  const sections = navFor(user)
  const shown = path || homeFor(user)
  const active = activeNavPath(sections, shown)
  return (
    <ApiContext.Provider value={api}>
      <a className="skip-link" href="#main" onClick={(e) => { e.preventDefault(); main.current?.focus() }}>Skip to content</a>
      <div className="shell">
        <aside className="sidebar">
          <div className="brand"><span className="brand-mark" aria-hidden="true">◆</span> Model Gateway</div>
          {sections.map((section) => (
            <nav key={section.label} aria-label={section.label}>
              <h2 className="nav-heading">{section.label}</h2>
              <ul>
                {section.items.map((item) => (
                  <li key={item.path}>
                    <a href={`#${item.path}`} aria-current={active === item.path ? 'page' : undefined}>{item.label}</a>
                  </li>
                ))}
              </ul>
            </nav>
          ))}
          <div className="signout">
            <p className="whoami" title={user.email}>
              {user.email}
              <span>{user.platform_admin ? 'Platform admin' : 'User'}</span>
            </p>
            <button type="button" className="button secondary wide"
              onClick={() => { void api.signOut(); setSession({ phase: 'signed-out', notice: 'You have signed out.' }) }}>
              Sign out
            </button>
          </div>
        </aside>
        <main id="main" ref={main} tabIndex={-1} className="content">
          <UserContext.Provider value={user}>{pageFor(user, shown)}</UserContext.Provider>
        </main>
      </div>
    </ApiContext.Provider>
  )
}
