import { describe, expect, it } from 'vitest'
import type { User } from './api/client'
import { activeNavPath, homeFor, mayOpen, navFor } from './navigation'

const user = (platform_admin: boolean): User => ({
  id: 'u1', email: 'a@example.com', display_name: '', platform_admin, disabled: false, has_password: true, sso: false, created_at: '', updated_at: '',
})

describe('role-aware navigation', () => {
  it('gives admins the console and their account, users only their account', () => {
    expect(navFor(user(true)).map((s) => s.label)).toEqual(['Admin', 'My account'])
    expect(navFor(user(false)).map((s) => s.label)).toEqual(['My account'])
    expect(homeFor(user(true))).toBe('/dashboard')
    expect(homeFor(user(false))).toBe('/me/keys')
  })

  it('lets users open their own pages and tenant pages (control checks the tenant role), not admin pages', () => {
    for (const path of ['/dashboard', '/usage', '/tenants', '/users', '/health', '/audit']) {
      expect([path, mayOpen(user(false), path)]).toEqual([path, false])
      expect([path, mayOpen(user(true), path)]).toEqual([path, true])
    }
    for (const path of ['/me', '/me/keys', '/me/usage', '/tenants/t1/keys', '/tenants/t1/members', '/tenants/t1/budgets']) {
      expect([path, mayOpen(user(false), path)]).toEqual([path, true])
    }
    expect(mayOpen(user(true), '/nowhere')).toBe(false)
  })

  it('marks the most specific section as current', () => {
    const sections = navFor(user(true))
    expect(activeNavPath(sections, '/me/keys')).toBe('/me/keys')
    expect(activeNavPath(sections, '/me')).toBe('/me')
    expect(activeNavPath(sections, '/tenants/t1/budgets')).toBe('/tenants')
    expect(activeNavPath(navFor(user(false)), '/tenants/t1/keys')).toBeNull()
  })
})
