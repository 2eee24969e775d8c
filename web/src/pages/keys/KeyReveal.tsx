import { useState } from 'react'
import type { CreatedApiKey } from '../../api/client'

/** The secret, shown once, with a copy button. */
export function KeyReveal({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no')
  async function copy() {
    try {
      await navigator.clipboard.writeText(created.key)
      setCopied('yes')
    } catch {
      setCopied('failed')
    }
  }
  return (
    <section className="card reveal" role="region" aria-labelledby="reveal-title">
      <h2 id="reveal-title">Key “{created.name}” created</h2>
      <p>Copy it now: this is the only time the secret is shown. Store it somewhere safe.</p>
      <div className="reveal-row">
        <code data-testid="revealed-key" className="secret">{created.key}</code>
        <button type="button" className="button primary" onClick={copy}>
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </button>
      </div>
      <p role="status" className="hint">
        {copied === 'yes' ? 'Copied to the clipboard.' : copied === 'failed' ? 'The browser refused the clipboard: select the key and copy it by hand.' : ''}
      </p>
      <button type="button" className="button secondary" onClick={onDone}>
        I have stored it
      </button>
    </section>
  )
}
