// Drives the admin console in Debian's Chromium with playwright-core, for test_admin_console.py.
//
// argv: CONTROL_URL EMAIL PASSWORD UPSTREAM_URL UPSTREAM_KEY SCREENSHOT_DIR SUFFIX
// Protocol on stdio (one JSON object per line): after creating everything through the UI it
// prints {"event": "key", ...}; the test calls the proxy with the key through the openai SDK and
// writes {"prompt_tokens": n, "completion_tokens": n} to stdin once accounting has the request;
// the driver then checks the usage page and prints {"event": "done"}.
import { createRequire } from 'node:module'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(path.join(here, '../../web/package.json'))
const { chromium } = require('playwright-core')

const [controlUrl, email, password, upstreamUrl, upstreamKey, shots, suffix] = process.argv.slice(2)
const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
]
const emit = (event) => process.stdout.write(JSON.stringify(event) + '\n')
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const errors = []

function expect(condition, message) {
  if (!condition) throw new Error(message)
}

async function shot(page, name) {
  await page.waitForLoadState('networkidle')
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true })
}

async function go(page, hash, heading) {
  await page.goto(`${controlUrl}/#${hash}`)
  await page.getByRole('heading', { level: 1, name: heading }).waitFor()
  await page.getByRole('status').filter({ hasText: 'Loading' }).waitFor({ state: 'detached' })
}

const profile = await mkdtemp(path.join(tmpdir(), 'gw-chromium-'))
// A persistent context gives the fresh user-data-dir ENVIRONMENT.md asks for.
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: FLAGS,
  viewport: { width: 1366, height: 860 },
  permissions: ['clipboard-read', 'clipboard-write'],
  baseURL: controlUrl,
})
try {
  const page = context.pages()[0] ?? (await context.newPage())
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`))
  page.on('console', (message) => message.type() === 'error' && errors.push(`console: ${message.text()}`))
  page.setDefaultTimeout(15_000)
  page.on('dialog', (dialog) => dialog.accept())

  // Sign in: a wrong password first, which must say so and keep us on the form.
  await page.goto(`${controlUrl}/`)
  await page.getByRole('heading', { name: 'Sign in to the admin console' }).waitFor()
  await shot(page, 'sign-in')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByText('Enter the email address of your account.').waitFor()
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(password + '-wrong')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('alert').waitFor()
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { level: 1, name: 'Tenants' }).waitFor()
  // A 401 failed sign-in is console-logged by the browser as a failed resource: not an app error.
  errors.length = 0

  // Provider (credentials write-only), model with pricing, route.
  await go(page, '/providers', 'Providers')
  await page.getByLabel('Provider name').fill(`upstream-${suffix}`)
  await page.getByLabel('Adapter type').fill('openai_compatible')
  await page.getByLabel('Base URL').fill(upstreamUrl)
  await page.getByLabel('API key').fill(upstreamKey)
  await page.getByRole('button', { name: 'Add provider' }).click()
  await page.getByRole('cell', { name: `upstream-${suffix}`, exact: true }).waitFor()
  expect(!(await page.content()).includes(upstreamKey), 'the provider credential is shown back')
  await shot(page, 'providers')

  const model = `console-${suffix}`
  await go(page, '/models', 'Models')
  await page.getByRole('button', { name: 'Add model' }).click()
  await page.getByText('Enter a price in USD per million tokens, e.g. 0.15.').waitFor()
  await page.getByLabel('Model name').fill(model)
  await page.getByLabel('Owned by').fill('openai')
  await page.getByLabel('Context window (tokens)').fill('128000')
  await page.getByLabel('Input price (USD / 1M tokens)').fill('2.5')
  await page.getByLabel('Output price (USD / 1M tokens)').fill('10')
  await page.getByRole('button', { name: 'Add model' }).click()
  await page.getByRole('cell', { name: model, exact: true }).waitFor()
  await shot(page, 'models')

  await go(page, '/routes', 'Routes')
  await page.getByLabel('Model', { exact: true }).selectOption(model)
  await page.getByLabel('Provider').selectOption({ label: `upstream-${suffix}` })
  await page.getByLabel('Upstream model').fill('gpt-4o-mini')
  await page.getByRole('button', { name: 'Create route' }).click()
  await page.getByRole('cell', { name: model, exact: true }).waitFor()
  await shot(page, 'routes')

  // Tenant, then a key with its one-time reveal and copy button.
  const tenant = `acme-${suffix}`
  await go(page, '/tenants', 'Tenants')
  await page.getByLabel('New tenant name').fill(tenant)
  await page.getByRole('button', { name: 'Create tenant' }).click()
  await page.getByRole('link', { name: tenant, exact: true }).waitFor()
  await shot(page, 'tenants')
  await page.getByRole('link', { name: tenant, exact: true }).click()
  await page.getByRole('heading', { level: 1, name: `API keys of ${tenant}` }).waitFor()
  await page.getByText('This tenant has no keys yet.').waitFor()
  await page.getByLabel('Key name').fill('console-e2e')
  await page.getByRole('button', { name: 'Create key' }).click()
  const revealed = (await page.getByTestId('revealed-key').textContent()).trim()
  await page.getByRole('button', { name: 'Copy' }).click()
  await page.getByText('Copied to the clipboard.').waitFor()
  const copied = await page.evaluate(() => navigator.clipboard.readText())
  expect(copied === revealed, 'the copy button put the key on the clipboard')
  await shot(page, 'api-key-reveal')
  await page.getByRole('button', { name: 'I have stored it' }).click()
  await page.getByRole('cell', { name: 'console-e2e', exact: true }).waitFor()
  expect(!(await page.content()).includes(revealed), 'the secret stays on the page after the reveal')
  await shot(page, 'api-keys')
  const tenantId = decodeURIComponent(page.url().split('/tenants/')[1].split('/')[0])
  emit({ event: 'key', key: copied, model, tenant, tenant_id: tenantId })

  const next = await lines.next()
  const usage = JSON.parse(next.value)

  // Usage of that tenant today: exactly the request the test made.
  await go(page, '/usage', 'Usage')
  await page.getByLabel('Tenant').selectOption({ label: tenant })
  await page.getByRole('button', { name: 'Show' }).click()
  await page.getByRole('status').filter({ hasText: 'Loading' }).waitFor({ state: 'detached' })
  const totals = page.getByRole('region', { name: 'Totals' })
  await totals.waitFor()
  const stat = async (label) =>
    (await totals.locator('.stat', { hasText: label }).locator('.stat-value').textContent()).replaceAll(',', '')
  expect((await stat('Requests')) === '1', `requests: ${await stat('Requests')}`)
  expect((await stat('Prompt tokens')) === String(usage.prompt_tokens), 'prompt tokens')
  expect((await stat('Completion tokens')) === String(usage.completion_tokens), 'completion tokens')
  await page.getByRole('region', { name: 'Requests per day' }).locator('.recharts-bar-rectangle').first().waitFor()
  await shot(page, 'usage')

  await go(page, '/audit', 'Audit log')
  await page.getByLabel('Action').fill('tenant.')
  await page.getByRole('button', { name: 'Filter' }).click()
  await page.getByRole('cell', { name: 'tenant.create' }).first().waitFor()
  await shot(page, 'audit-log')

  // Revoke the key (after a confirmation) and suspend the tenant.
  await page.goto(`${controlUrl}/#/tenants/${tenantId}/keys`)
  await page.getByRole('button', { name: 'Revoke console-e2e' }).click()
  await page.locator('.badge', { hasText: 'revoked' }).waitFor()
  await go(page, '/tenants', 'Tenants')
  await page.getByRole('button', { name: `Suspend ${tenant}` }).click()
  await page.getByRole('button', { name: `Reactivate ${tenant}` }).waitFor()
  expect((await page.locator('.badge', { hasText: 'suspended' }).count()) === 1, 'the tenant shows as suspended')

  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.getByText('You have signed out.').waitFor()

  expect(errors.length === 0, `browser errors: ${errors.join('; ')}`)
  emit({ event: 'done' })
} catch (error) {
  const page = context.pages()[0]
  if (page) await page.screenshot({ path: path.join(tmpdir(), 'gw-console-failure.png'), fullPage: true }).catch(() => {})
  emit({ event: 'error', message: String(error?.stack ?? error), browser_errors: errors })
  process.exitCode = 1
} finally {
  await context.close()
  await rm(profile, { recursive: true, force: true })
  process.stdin.destroy()
}
