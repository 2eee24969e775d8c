import { useState, type ReactNode } from 'react'
import type { ApiKey, ApiKeyCreate, CreatedApiKey } from '../../api/client'
import { DataTable } from '../../components/DataTable'
import { FormError } from '../../components/Field'
import { AsyncView } from '../../components/States'
import type { AsyncState } from '../../components/useAsync'
import { useSubmit } from '../../components/useSubmit'
import { formatDate } from '../../format'
import { KeyEditor } from './KeyEditor'
import { KeyForm } from './KeyForm'
import { KeyReveal } from './KeyReveal'
import { keyStatus, limitSummary } from './limits'
import { RotateKey } from './RotateKey'

type Panel = { kind: 'create' } | { kind: 'reveal'; key: CreatedApiKey } | { kind: 'edit' | 'rotate'; key: ApiKey }

/**
 * Keys with everything one can do to them: create (one-time reveal), edit name, models and
 * limits, rotate (reveal the successor), revoke. Used for a tenant's keys and for my own.
 */
export function KeyManager({
  caption,
  state,
  reload,
  create,
  revoke,
  formFields,
  empty,
}: {
  caption: string
  state: AsyncState<{ items: ApiKey[] }>
  reload: () => void
  create: (body: ApiKeyCreate) => Promise<CreatedApiKey>
  revoke: (key: ApiKey) => Promise<unknown>
  formFields?: ReactNode
  empty: string
}) {
  const [panel, setPanel] = useState<Panel>({ kind: 'create' })
  const action = useSubmit()
  const reveal = (key: CreatedApiKey) => {
    setPanel({ kind: 'reveal', key })
    reload()
  }

  async function revokeKey(key: ApiKey) {
    if (!window.confirm(`Revoke “${key.name}”? Requests with it will be refused at once.`)) return
    if (await action.run(() => revoke(key))) reload()
  }

  const close = () => setPanel({ kind: 'create' })
  return (
    <>
      {panel.kind === 'reveal' && <KeyReveal created={panel.key} onDone={close} />}
      {panel.kind === 'edit' && <KeyEditor apiKey={panel.key} onCancel={close} onSaved={() => { close(); reload() }} />}
      {panel.kind === 'rotate' && <RotateKey apiKey={panel.key} onCancel={close} onRotated={reveal} />}
      {panel.kind === 'create' && <KeyForm create={create} onCreated={reveal}>{formFields}</KeyForm>}
      <FormError message={action.failure} />
      <AsyncView state={state} onRetry={reload}>
        {(page) => (
          <DataTable
            caption={caption}
            rows={page.items}
            rowKey={(k) => k.id}
            empty={empty}
            columns={[
              { header: 'Name', cell: (k) => k.name },
              { header: 'Key', cell: (k) => <code>{k.prefix}…{k.last4}</code> },
              { header: 'Status', cell: (k) => <span className={`badge badge-${keyStatus(k)}`}>{keyStatus(k)}</span> },
              { header: 'Models', cell: (k) => (k.allowed_models.length ? k.allowed_models.join(', ') : 'all') },
              {
                header: 'Limits',
                cell: (k) => <span className="muted">{limitSummary(k)}</span>,
              },
              { header: 'Expires', cell: (k) => formatDate(k.expires_at) },
              { header: 'Created', cell: (k) => formatDate(k.created_at) },
              {
                header: 'Actions',
                cell: (k) =>
                  k.revoked_at ? null : (
                    <div className="actions">
                      <button type="button" className="button small secondary" onClick={() => setPanel({ kind: 'edit', key: k })} aria-label={`Edit ${k.name}`}>Edit</button>
                      <button type="button" className="button small secondary" onClick={() => setPanel({ kind: 'rotate', key: k })} aria-label={`Rotate ${k.name}`}>Rotate</button>
                      <button type="button" className="button small danger" onClick={() => revokeKey(k)} aria-label={`Revoke ${k.name}`}>Revoke</button>
                    </div>
                  ),
              },
            ]}
          />
        )}
      </AsyncView>
    </>
  )
}
