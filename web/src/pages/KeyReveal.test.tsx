import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { CreatedApiKey } from '../api/client'
import { KeyReveal } from './keys/KeyReveal'

const created = {
  id: 'k1', tenant_id: 't1', user_id: null, name: 'billing', prefix: 'sk-gw-abcd', last4: 'wxyz',
  allowed_models: [], rpm_limit: null, tpm_limit: null, max_parallel: null, expires_at: null,
  revoked_at: null, disabled: false, rotated_from: null, created_at: '2026-11-26T07:00:00Z',
  key: 'sk-gw-abcdSECRETwxyz',
} satisfies CreatedApiKey

describe('KeyReveal', () => {
  it('shows the secret once and copies it to the clipboard', async () => {
    const user = userEvent.setup()
    const onDone = vi.fn()
    render(<KeyReveal created={created} onDone={onDone} />)
    expect(screen.getByRole('region', { name: 'Key “billing” created' })).toBeInTheDocument()
    expect(screen.getByTestId('revealed-key')).toHaveTextContent('sk-gw-abcdSECRETwxyz')
    await user.click(screen.getByRole('button', { name: 'Copy' }))
    expect(await navigator.clipboard.readText()).toBe('sk-gw-abcdSECRETwxyz')
    expect(screen.getByRole('status')).toHaveTextContent('Copied to the clipboard.')
    await user.click(screen.getByRole('button', { name: 'I have stored it' }))
    expect(onDone).toHaveBeenCalledOnce()
  })

  it('tells the user to copy by hand when the clipboard is refused', async () => {
    const user = userEvent.setup()
    render(<KeyReveal created={created} onDone={vi.fn()} />)
    vi.spyOn(navigator.clipboard, 'writeText').mockRejectedValue(new DOMException('denied', 'NotAllowedError'))
    await user.click(screen.getByRole('button', { name: 'Copy' }))
    expect(await screen.findByText(/select the key and copy it by hand/)).toBeInTheDocument()
  })
})
