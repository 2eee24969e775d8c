import { useEffect, useState, type FormEvent } from 'react'
import type { SsoProvider } from '../api/client'
import { useApi } from '../api/context'
import { Field, FormError } from '../components/Field'

// What control's SSO callback reports (`?sso_error=<reason>`), in words a person can act on.
const SSO_ERRORS: Record<string, string> = {
  invalid_state: 'The single sign-on attempt expired or was started in another window. Try again.',
  unknown_provider: 'That identity provider is not configured.',
  provider_error: 'The identity provider did not sign you in.',
  provider_unavailable: 'The identity provider could not be reached. Try again later.',
  code_rejected: 'The identity provider refused the sign-in. Try again.',
  id_token_invalid: "The identity provider's answer could not be verified. Ask an administrator.",
  nonce_mismatch: "The identity provider's answer could not be verified. Try again.",
  email_not_verified: 'Your identity provider has not verified your email address.',
  email_domain_not_allowed: 'Accounts with your email domain may not sign in here.',
  account_not_linked: 'An account with your email exists but is not linked to this identity provider. Ask an administrator.',
  no_account: 'There is no account for you here. Ask an administrator to create one.',
  account_disabled: 'Your account is disabled.',
  service_unavailable: 'Single sign-on is unavailable right now. Try again later.',
}

/** The failure control's SSO callback sent the browser back with, if any. */
function ssoErrorInUrl(): string | null {
  const reason = new URLSearchParams(window.location.search).get('sso_error')
  if (!reason) return null
  return SSO_ERRORS[reason] ?? `Single sign-on failed (${reason}).`
}

/** Drop `sso_error` from the address bar, so a reload does not show the failure again. */
function forgetSsoError() {
  const params = new URLSearchParams(window.location.search)
  if (!params.has('sso_error')) return
  params.delete('sso_error')
  const query = params.toString()
  window.history.replaceState(null, '', `${window.location.pathname}${query ? `?${query}` : ''}${window.location.hash}`)
}

export function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: () => void }) {
  const api = useApi()
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [errors, setErrors] = useState<{ email?: string; password?: string }>({})
  const [failure, setFailure] = useState<string | null>(ssoErrorInUrl)
  const [busy, setBusy] = useState(false)
  const [providers, setProviders] = useState<SsoProvider[]>([])

  useEffect(() => {
    forgetSsoError()
    let live = true
    // SSO is optional: without providers (or without an answer) only the password form shows.
    api.listSsoProviders().then(
      (list) => live && setProviders(list.items),
      () => live && setProviders([]),
    )
    return () => {
      live = false
    }
  }, [api])

  async function submit(event: FormEvent) {
    event.preventDefault()
    const found: typeof errors = {}
    if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) found.email = 'Enter the email address of your account.'
    if (!password) found.password = 'Enter your password.'
    setErrors(found)
    if (Object.keys(found).length) return
    setBusy(true)
    setFailure(null)
    try {
      await api.login(email.trim(), password)
      onSignedIn()
    } catch (error) {
      setFailure(error instanceof Error ? error.message : String(error))
    } finally {
      setBusy(false)
    }
  }

  return (
    <main className="signin">
      <form className="card signin-card" onSubmit={submit} noValidate aria-labelledby="signin-title">
        <div className="brand brand-large" aria-hidden="true">
          <span className="brand-mark">◆</span> Open Model Gateway
        </div>
        <h1 id="signin-title">Sign in to the admin console</h1>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <Field label="Email" type="email" autoComplete="username" value={email} autoFocus
          onChange={(e) => setEmail(e.target.value)} error={errors.email} />
        <Field label="Password" type="password" autoComplete="current-password" value={password}
          onChange={(e) => setPassword(e.target.value)} error={errors.password} />
        <FormError message={failure} />
        <button className="button primary wide" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {providers.length > 0 && (
          <div className="signin-sso" role="group" aria-label="Single sign-on">
            <p className="signin-divider">or</p>
            {providers.map((provider) => (
              <a key={provider.name} className="button secondary wide" href={provider.start_url}>
                Sign in with {provider.display_name}
              </a>
            ))}
          </div>
        )}
      </form>
    </main>
  )
}
