import { createContext, useContext } from 'react'
import type { ApiClient, User } from './client'

export const ApiContext = createContext<ApiClient | null>(null)

export function useApi(): ApiClient {
  const client = useContext(ApiContext)
  if (!client) throw new Error('useApi outside <ApiContext.Provider>')
  return client
}

/** The signed-in user (null outside the signed-in shell, e.g. in isolated component tests). */
export const UserContext = createContext<User | null>(null)

export function useUser(): User | null {
  return useContext(UserContext)
}
