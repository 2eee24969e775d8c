// A real OpenID Connect provider (node-oidc-provider) on loopback, for control's SSO tests.
//
// Everything comes from the environment, so a pytest fixture can start it on a free port:
//   IDP_PORT            port on 127.0.0.1
//   IDP_CLIENTS         JSON array of clients: [{client_id, client_secret, redirect_uris}]
//   IDP_JWKS            JSON {keys: [private JWK, ...]} the ID tokens are signed with (unset: the
//                       provider's own development key)
//   IDP_ACCOUNTS        JSON {login: {email, email_verified, name}}; other logins get login@idp.test
//   IDP_CLOCK_OFFSET_S  shifts the provider's clock; with a short IDP_ID_TOKEN_TTL_S, a negative
//                       offset issues ID tokens that have already expired (a provider with a bad clock)
//   IDP_ID_TOKEN_TTL_S  ID token lifetime (default 3600)
//
// The built-in development interactions serve the login form (any login, any password: the login
// becomes the subject) and the consent form, which the tests post like a browser would.
// It prints "listening <issuer>" once it accepts connections.

const offsetMs = Number(process.env.IDP_CLOCK_OFFSET_S ?? '0') * 1000
if (offsetMs !== 0) {
  const realNow = Date.now
  Date.now = () => realNow() + offsetMs
}

const { default: Provider } = await import('oidc-provider')

const port = Number(process.env.IDP_PORT)
const issuer = `http://127.0.0.1:${port}`
const accounts = JSON.parse(process.env.IDP_ACCOUNTS ?? '{}')

const provider = new Provider(issuer, {
  clients: JSON.parse(process.env.IDP_CLIENTS).map((client) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
    ...client,
  })),
  ...(process.env.IDP_JWKS ? { jwks: JSON.parse(process.env.IDP_JWKS) } : {}),
  cookies: { keys: ['oidc-idp-test-cookie-key'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  pkce: { required: () => true },
  ttl: { IdToken: Number(process.env.IDP_ID_TOKEN_TTL_S ?? '3600') },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    const known = accounts[id] ?? { email: `${id}@idp.test`, email_verified: true, name: id }
    return { accountId: id, async claims() { return { sub: id, ...known } } }
  },
})

provider.listen(port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`)
})
