// Signs in to the console through single sign-on in Debian's Chromium, for test_sso_console.py.
//
// argv: CONTROL_URL PROVIDER_LABEL REFUSED_LOGIN ACCEPTED_LOGIN
// 1. REFUSED_LOGIN (an account whose email the IdP has not verified) must come back to the
//    sign-in page with the reason explained and no session;
// 2. ACCEPTED_LOGIN must land in the console (the user portal's "My API keys") and stay signed in
//    across a reload (control's refresh cookie).
// Prints one JSON line: {"event": "done", "landed": <url after the reload>} (or "error").
import { launchChromium } from './chromium.mjs'

const [controlUrl, providerLabel, refusedLogin, acceptedLogin] = process.argv.slice(2)
const errors = []
let page = null

function expect(condition, message) {
  if (!condition) throw new Error(message)
}

/** From the console's sign-in page through the IdP's login and consent forms. */
async function signInAtIdp(page, login) {
  await page.goto(`${controlUrl}/`)
  await page.getByRole('link', { name: `Sign in with ${providerLabel}` }).click()
  await page.locator('input[name="login"]').fill(login)
  await page.locator('input[name="password"]').fill('any password')
  await page.locator('button[type="submit"]').click()
  await page.getByRole('button', { name: 'Continue' }).click()
}

const browser = await launchChromium()
const { context } = browser
try {
  page = context.pages()[0] ?? (await context.newPage())
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`))
  page.setDefaultTimeout(20_000)

  await signInAtIdp(page, refusedLogin)
  await page.getByRole('heading', { name: 'Sign in to the admin console' }).waitFor()
  await page.getByText('Your identity provider has not verified your email address.').waitFor()
  expect(!page.url().includes('sso_error'), `the reason stays in the address bar: ${page.url()}`)

  // The IdP remembers who signed in there; forget it so the next login form shows.
  await context.clearCookies()
  await signInAtIdp(page, acceptedLogin)
  await page.getByRole('heading', { level: 1, name: 'My API keys' }).waitFor()
  await page.reload()
  await page.getByRole('heading', { level: 1, name: 'My API keys' }).waitFor()
  expect(errors.length === 0, `browser errors: ${errors.join('; ')}`)
  process.stdout.write(JSON.stringify({ event: 'done', landed: page.url() }) + '\n')
} catch (error) {
  const where = page ? `${page.url()}: ${(await page.content()).slice(0, 1500)}` : 'no page'
  process.stdout.write(JSON.stringify({ event: 'error', message: String(error), where, browser_errors: errors }) + '\n')
  process.exitCode = 1
} finally {
  await browser.close()
}
