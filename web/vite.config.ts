/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// In dev (`npm run dev`) API calls go to a control on 127.0.0.1:8081; in production control
// (or the web image's nginx) serves the built files and the API from one origin.
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/api': process.env.CONTROL_URL ?? 'http://127.0.0.1:8081',
    },
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    // Page tests type and click through whole flows; the machine is shared, so allow for load.
    testTimeout: 20_000,
  },
})
