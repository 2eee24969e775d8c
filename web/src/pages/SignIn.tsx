import { useState, type FormEvent } from 'react'
import { useApi } from '../api/context'
import { Field, FormError } from '../components/Field'

export function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: () => void }) {
  const api = useApi()
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [errors, setErrors] = useState<{ email?: string; password?: string }>({})
  const [failure, setFailure] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

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
      </form>
    </main>
  )
}
