// Drives the admin console in Debian's Chromium with playwright-core, for test_admin_console.py.
//
// argv: CONTROL_URL EMAIL PASSWORD UPSTREAM_URL UPSTREAM_KEY SCREENSHOT_DIR SUFFIX
// Protocol on stdio (one JSON object per line):
//   1. after creating everything through the UI it prints {"event": "key", ...}; the test calls
//      the proxy with the key through the openai SDK and writes {"prompt_tokens": n,
//      "completion_tokens": n} to stdin once accounting has the request;
//   2. the driver checks the dashboard and the usage explorer (and its CSV), manages users,
//      members and keys, then signs in as a new non-admin user, creates a key in the user
//      portal and prints {"event": "portal_key", ...}; the test calls the proxy with that key
//      and writes {} once accounting has it;
//   3. the driver checks "My usage", that a reload keeps the session (the refresh cookie), signs
//      out and prints {"event": "done"}.
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { launchChromium } from './chromium.mjs'

const [controlUrl, email, password, upstreamUrl, upstreamKey, shots, suffix] = process.argv.slice(2)
const emit = (event) => process.stdout.write(JSON.stringify(event) + '\n')
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const errors = []

function expect(condition, message) {
  if (!condition) throw new Error(message)
}

async function shot(page, name) {
  await page.mouse.move(0, 0)  // no hover tooltip in the picture
  await page.waitForLoadState('networkidle')
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true })
}

async function settled(page) {
  await page.getByRole('status').filter({ hasText: /Loading|Restoring/ }).first().waitFor({ state: 'detached' })
}

async function go(page, hash, heading) {
  await page.goto(`${controlUrl}/#${hash}`)
  await page.getByRole('heading', { level: 1, name: heading }).waitFor()
  await settled(page)
}

async function signIn(page, login, secret, landing) {
  await page.getByLabel('Email').fill(login)
  await page.getByLabel('Password').fill(secret)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { level: 1, name: landing }).waitFor()
}

/** Sign out, and wait until control has revoked the session and cleared its cookies. */
async function signOut(page) {
  const loggedOut = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/logout'))
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.getByText('You have signed out.').waitFor()
  expect((await loggedOut).status() === 204, 'logout revoked the session')
}

/** The figure of a summary card, without thousands separators. */
async function stat(region, label) {
  const card = region.locator('.stat').filter({ has: region.page().locator('.stat-label', { hasText: new RegExp(`^${label}$`) }) })
  return (await card.locator('.stat-value').textContent()).replaceAll(',', '')
}

const browser = await launchChromium({ permissions: ['clipboard-read', 'clipboard-write'], baseURL: controlUrl })
const { context } = browser
try {
  const page = context.pages()[0] ?? (await context.newPage())
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`))
  page.on('console', (message) => message.type() === 'error' && errors.push(`console: ${message.text()}`))
  // Name the request behind a failed-resource console error.
  page.on('response', (response) => response.status() >= 400 && errors.push(`HTTP ${response.status()} ${response.request().method()} ${response.url()}`))
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
  await signIn(page, email, password, 'Dashboard')
  expect(page.url().endsWith('#/dashboard'), `an admin lands on the dashboard, not ${page.url()}`)
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

  // The dashboard: today's traffic across every tenant includes the request, with its latency.
  await go(page, '/dashboard', 'Dashboard')
  await page.getByLabel('Range').selectOption('1')
  await settled(page)
  const summary = page.getByRole('region', { name: 'Summary' })
  expect(Number(await stat(summary, 'Requests')) >= 1, `dashboard requests: ${await stat(summary, 'Requests')}`)
  expect((await stat(summary, 'Latency p50')) !== '—', 'the dashboard shows a latency')
  await page.getByRole('region', { name: 'Requests and spend per day' }).locator('.recharts-bar-rectangle').first().waitFor()
  await shot(page, 'dashboard')

  // The usage explorer: that tenant, grouped by model, is exactly the request; then its CSV.
  await go(page, '/usage', 'Usage explorer')
  await page.getByLabel('Tenant').selectOption({ label: tenant })
  await page.getByLabel('Group by').selectOption('model')
  await page.getByRole('button', { name: 'Show' }).click()
  await settled(page)
  const totals = page.getByRole('region', { name: 'Totals' })
  await page.getByRole('cell', { name: model, exact: true }).waitFor()
  expect((await stat(totals, 'Requests')) === '1', `requests: ${await stat(totals, 'Requests')}`)
  expect((await stat(totals, 'Prompt tokens')) === String(usage.prompt_tokens), 'prompt tokens')
  expect((await stat(totals, 'Completion tokens')) === String(usage.completion_tokens), 'completion tokens')
  await page.getByRole('region', { name: 'Requests by model' }).locator('.recharts-bar-rectangle').first().waitFor()
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()])
  expect(/^usage-by-model-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/.test(download.suggestedFilename()), `CSV name ${download.suggestedFilename()}`)
  const csv = (await readFile(await download.path(), 'utf8')).split('\r\n')
  expect(csv[0] === 'model,name,requests,prompt_tokens,completion_tokens,errors,cost_usd,cost_micro_usd', `CSV header: ${csv[0]}`)
  expect(csv[1].startsWith(`${model},${model},1,${usage.prompt_tokens},${usage.completion_tokens},0,`), `CSV row: ${csv[1]}`)
  expect(csv.length === 3 && csv[2] === '', `CSV has one row: ${csv.length - 2}`)
  await shot(page, 'usage-explorer')

  await go(page, '/audit', 'Audit log')
  await page.getByLabel('Action').fill('tenant.')
  await page.getByRole('button', { name: 'Filter' }).click()
  await page.getByRole('cell', { name: 'tenant.create' }).first().waitFor()
  await shot(page, 'audit-log')

  // A new (non-admin) user, made a member of the tenant.
  const portalEmail = `dev-${suffix}@example.com`
  const portalPassword = `portal-password-${suffix}`
  await go(page, '/users', 'Users')
  await page.getByLabel('Email').fill(portalEmail)
  await page.getByLabel('Display name').fill('Dev User')
  await page.getByLabel('Initial password').fill(portalPassword)
  await page.getByRole('button', { name: 'Create user' }).click()
  await page.getByRole('cell', { name: portalEmail, exact: true }).waitFor()
  await shot(page, 'users')
  await go(page, `/tenants/${tenantId}/members`, `Members of ${tenant}`)
  await page.getByLabel('Member email').fill(portalEmail)
  await page.getByLabel('Role', { exact: true }).selectOption('member')
  await page.getByRole('button', { name: 'Add member' }).click()
  await page.getByLabel(`Role of ${portalEmail}`).waitFor()
  await shot(page, 'members')

  // A budget on the tenant with alert thresholds, and an email channel for its alerts.
  await page.getByRole('navigation', { name: 'Tenant sections' }).getByRole('link', { name: 'Budgets' }).click()
  await page.getByRole('heading', { level: 1, name: `Budgets of ${tenant}` }).waitFor()
  await settled(page)
  await page.getByLabel('Limit (USD)').fill('100')
  await page.getByLabel('Alert thresholds (%)').fill('50, 90')
  await page.getByRole('button', { name: 'Create budget' }).click()
  await page.getByRole('cell', { name: '50%, 90%', exact: true }).waitFor()
  await page.getByLabel('Channel name').fill('finance')
  await page.getByLabel('Kind').selectOption('email')
  await page.getByLabel('Email address').fill('finance@example.com')
  await page.getByRole('button', { name: 'Add channel' }).click()
  await page.getByRole('cell', { name: 'finance', exact: true }).waitFor()
  // "Send test" goes through accounting's real email sender: this stack has no SMTP relay, so the
  // page must say the test alert was not delivered, and why.
  await page.getByRole('button', { name: 'Send a test alert to finance' }).click()
  await page.getByRole('status').filter({ hasText: 'Test alert to “finance” was not delivered: email alerts need ALERT_SMTP_HOST.' }).waitFor()
  await shot(page, 'budgets')

  // Edit the key's limits, rotate it (the successor is revealed once), revoke the old one.
  await go(page, `/tenants/${tenantId}/keys`, `API keys of ${tenant}`)
  await page.getByRole('button', { name: 'Edit console-e2e' }).click()
  const editor = page.getByRole('form', { name: 'Edit key console-e2e' })
  await editor.getByLabel('Requests per minute').fill('600')
  await editor.getByLabel('Parallel requests').fill('8')
  await shot(page, 'api-key-edit')
  await editor.getByRole('button', { name: 'Save changes' }).click()
  await page.getByText('600 rpm · 8 parallel').waitFor()
  await page.getByRole('button', { name: 'Rotate console-e2e' }).click()
  await page.getByRole('button', { name: 'Rotate key' }).click()
  const successor = (await page.getByTestId('revealed-key').textContent()).trim()
  expect(successor.startsWith('sk-gw-') && successor !== revealed, 'rotation reveals a new key')
  await page.getByRole('button', { name: 'I have stored it' }).click()
  await page.getByRole('row').filter({ hasText: 'console-e2e' }).nth(1).waitFor()
  await page.getByRole('button', { name: 'Revoke console-e2e' }).first().click()
  await page.locator('.badge', { hasText: 'revoked' }).waitFor()
  await go(page, '/tenants', 'Tenants')
  await page.getByRole('button', { name: `Suspend ${tenant}` }).click()
  await page.getByRole('button', { name: `Reactivate ${tenant}` }).waitFor()
  expect((await page.locator('.badge', { hasText: 'suspended' }).count()) === 1, 'the tenant shows as suspended')

  // Edit the model: context window and capabilities (its prices stay: usage was billed at them).
  await go(page, '/models', 'Models')
  await page.getByRole('button', { name: `Edit ${model}` }).click()
  const modelEditor = page.getByRole('form', { name: `Edit model ${model}` })
  await modelEditor.getByLabel('Context window (tokens)').fill('many')
  await modelEditor.getByRole('button', { name: 'Save model' }).click()
  await modelEditor.getByText('The context window must be a whole number from 1 to 100,000,000.').waitFor()
  await modelEditor.getByLabel('Capabilities').fill('tools, vision')
  await shot(page, 'model-edit')
  await modelEditor.getByLabel('Context window (tokens)').fill('200000')
  await modelEditor.getByRole('button', { name: 'Save model' }).click()
  await page.getByRole('cell', { name: '200,000', exact: true }).waitFor()
  await page.getByRole('cell', { name: 'tools, vision', exact: true }).waitFor()

  // Platform settings: the default model entitlements of personal tenants (left as "every model").
  await go(page, '/settings', 'Settings')
  await page.getByLabel('Models personal tenants may use').waitFor()
  await shot(page, 'settings')

  // Provider health: the route's deployment is listed with the health service's verdict.
  await go(page, '/health', 'Provider health')
  await page.getByRole('cell', { name: `upstream-${suffix} openai_compatible` }).waitFor()
  await shot(page, 'provider-health')

  await signOut(page)

  // The user portal: the new user sees only their own pages and creates a key.
  await signIn(page, portalEmail, portalPassword, 'My API keys')
  expect((await page.getByRole('navigation', { name: 'Admin' }).count()) === 0, 'a user sees no admin section')
  await page.getByText('You have no keys yet. Create one above.').waitFor()
  await page.getByLabel('Key name').fill('portal-e2e')
  await page.getByRole('button', { name: 'Create key' }).click()
  const portalKey = (await page.getByTestId('revealed-key').textContent()).trim()
  await shot(page, 'my-key-reveal')
  await page.getByRole('button', { name: 'I have stored it' }).click()
  await page.getByRole('cell', { name: 'portal-e2e', exact: true }).waitFor()
  await shot(page, 'my-keys')
  await page.goto(`${controlUrl}/#/users`)
  await page.getByText('This page is for platform admins.').waitFor()
  emit({ event: 'portal_key', key: portalKey, model, email: portalEmail })
  await lines.next()

  await go(page, '/me/usage', 'My usage')
  const mine = page.getByRole('region', { name: 'My totals' })
  expect((await stat(mine, 'Requests')) === '1', `my requests: ${await stat(mine, 'Requests')}`)
  await page.getByRole('row').filter({ hasText: 'portal-e2e' }).getByRole('cell', { name: '1', exact: true }).first().waitFor()
  await shot(page, 'my-usage')
  await go(page, '/me', 'Profile and tenants')
  await page.getByRole('cell', { name: tenant, exact: true }).waitFor()
  await shot(page, 'profile')

  // A reload keeps the session: the refresh cookie and the csrf header buy a new access token.
  await page.reload()
  await page.getByRole('heading', { level: 1, name: 'Profile and tenants' }).waitFor()
  await signOut(page)
  await page.reload()
  await page.getByRole('heading', { name: 'Sign in to the admin console' }).waitFor()

  expect(errors.length === 0, `browser errors: ${errors.join('; ')}`)
  emit({ event: 'done' })
} catch (error) {
  const page = context.pages()[0]
  if (page) await page.screenshot({ path: path.join(tmpdir(), 'gw-console-failure.png'), fullPage: true }).catch(() => {})
  emit({ event: 'error', message: String(error?.stack ?? error), browser_errors: errors })
  process.exitCode = 1
} finally {
  await browser.close()
  process.stdin.destroy()
}
