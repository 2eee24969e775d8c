// Debian's Chromium under playwright-core, launched the way shared/ENVIRONMENT.md says: headless,
// flags that keep it off the network, and a fresh user-data-dir (a persistent context) that
// close() deletes. Shared by the browser drivers of tests/web.
import { createRequire } from 'node:module'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(path.join(here, '../../web/package.json'))
const { chromium } = require('playwright-core')

const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
]

/** `{context, close}`: a browser context on a fresh profile (extra context options merged in). */
export async function launchChromium(options = {}) {
  const profile = await mkdtemp(path.join(tmpdir(), 'gw-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
    viewport: { width: 1366, height: 860 },
    ...options,
  })
  return {
    context,
    async close() {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    },
  }
}
