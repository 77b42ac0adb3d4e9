// A real OpenID provider (panva's oidc-provider) for updraft's single sign-on
// tests, on loopback, with everything in memory: every start is a clean slate
// with a new signing key. Configured from the environment:
//
//   OIDC_PORT, OIDC_HOST (127.0.0.1), OIDC_ISSUER (http://HOST:PORT)
//   BFF_ORIGIN            the console's origin, for the BFF client's redirect URIs
//   API_RESOURCE          the API audience (urn:updraft:api)
//   OTHER_RESOURCE        a second audience, for wrong-audience tests (urn:other:api)
//   AT_TTL, API_AT_TTL    access-token lifetimes in seconds (300)
//   OIDC_SKIP_CONSENT=1   grant consent without showing the page
//   BFF_SECRET, CLI_SECRET, VIEWER_CLI_SECRET, ALICE_PASSWORD, BOB_PASSWORD
//
// Prints "listening on <issuer>" once it accepts connections.

import crypto from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const env = process.env;
const host = env.OIDC_HOST || '127.0.0.1';
const port = Number(env.OIDC_PORT || 0);
if (!port) {
  console.error('OIDC_PORT is required: the issuer URL must be known before start');
  process.exit(2);
}
const issuer = env.OIDC_ISSUER || `http://${host}:${port}`;
const bffOrigin = env.BFF_ORIGIN || 'http://127.0.0.1:8088';
const apiResource = env.API_RESOURCE || 'urn:updraft:api';
const otherResource = env.OTHER_RESOURCE || 'urn:other:api';
const accessTokenTtl = Number(env.AT_TTL || 300);
const apiAccessTokenTtl = Number(env.API_AT_TTL || 300);
const skipConsent = env.OIDC_SKIP_CONSENT === '1';

const users = {
  alice: {
    password: env.ALICE_PASSWORD || 'alice-password',
    claims: {
      name: 'Alice Admin',
      preferred_username: 'alice',
      email: 'alice@example.com',
      email_verified: true,
      groups: ['updraft-admins', 'updraft-users'],
    },
  },
  bob: {
    password: env.BOB_PASSWORD || 'bob-password',
    claims: {
      name: 'Bob Viewer',
      preferred_username: 'bob',
      email: 'bob@example.com',
      email_verified: true,
      groups: ['updraft-viewers'],
    },
  },
};

// Groups client-credentials tokens carry, per machine client.
const clientGroups = {
  'updraft-cli': ['updraft-automation'],
  'updraft-viewer-cli': ['updraft-viewers'],
};

const clients = [
  {
    client_id: 'updraft-console',
    client_secret: env.BFF_SECRET || 'console-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [`${bffOrigin}/auth/callback`],
    post_logout_redirect_uris: [`${bffOrigin}/`, `${bffOrigin}/auth/logged-out`],
  },
  {
    client_id: 'updraft-cli',
    client_secret: env.CLI_SECRET || 'cli-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  },
  {
    client_id: 'updraft-viewer-cli',
    client_secret: env.VIEWER_CLI_SECRET || 'viewer-cli-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  },
  {
    // flytekit's PKCE and device flows for people on the command line.
    client_id: 'flytectl',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    response_types: ['code'],
    redirect_uris: ['http://localhost:53593/callback'],
  },
];

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: crypto.randomUUID(),
  use: 'sig',
  alg: 'RS256',
};

const resourceServers = {
  [apiResource]: { scope: 'api:read api:write', audience: apiResource },
  [otherResource]: { scope: 'api:read', audience: otherResource },
};

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  conformIdTokenClaims: false,
  scopes: ['openid', 'offline_access', 'profile', 'email', 'groups', 'api:read', 'api:write'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  async findAccount(_ctx, id) {
    const user = users[id];
    if (!user) return undefined;
    return { accountId: id, claims: () => ({ sub: id, ...user.claims }) };
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    deviceFlow: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // flytekit's client-credentials request names no resource; machine
      // clients exist only to call the API, so theirs defaults to it.
      defaultResource: (ctx, client, oneOf) => {
        if (oneOf) return oneOf;
        if (client && clientGroups[client.clientId] && ctx.oidc.params?.grant_type === 'client_credentials') {
          return apiResource;
        }
        return undefined;
      },
      useGrantedResource: () => false,
      getResourceServerInfo(_ctx, resource) {
        const server = resourceServers[resource];
        if (!server) throw new errors.InvalidTarget();
        return {
          ...server,
          accessTokenTTL: apiAccessTokenTtl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  async extraTokenClaims(_ctx, token) {
    if (token.accountId) return { groups: users[token.accountId]?.claims.groups ?? [] };
    if (token.clientId) return { groups: clientGroups[token.clientId] ?? [] };
    return undefined;
  },
  issueRefreshToken: async (_ctx, client, code) =>
    client.grantTypeAllowed('refresh_token') &&
    (code.scopes.has('offline_access') || client.clientId === 'updraft-console'),
  rotateRefreshToken: () => true,
  ttl: {
    // Functions, so the resource server's TTL wins over the default.
    AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL || accessTokenTtl,
    ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL || accessTokenTtl,
    IdToken: 3600,
    RefreshToken: 86400,
    AuthorizationCode: 60,
    Interaction: 600,
    Session: 28800,
    Grant: 28800,
    DeviceCode: 600,
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', `<h1>Error</h1>
<p id="error">${escape(out.error)}</p>
<p id="error_description">${escape(out.error_description || '')}</p>`);
  },
});

function escape(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body>${body}</body></html>`;
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > 16 * 1024) {
        reject(new Error('form too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

function passwordMatches(user, given) {
  const expected = Buffer.from(user.password);
  const actual = Buffer.from(given || '');
  return expected.length === actual.length && crypto.timingSafeEqual(expected, actual);
}

function loginPage(uid, error) {
  return page('Sign in', `<h1>Sign in</h1>
${error ? `<p id="login-error">${escape(error)}</p>` : ''}
<form id="login-form" method="post" action="/interaction/${escape(uid)}/login">
<label>Username <input id="username" name="username" autocomplete="username"></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
<button id="login-submit" type="submit">Sign in</button>
</form>
<a id="abort" href="/interaction/${escape(uid)}/abort">Cancel</a>`);
}

async function grantConsent(details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(resource, scopes.join(' '));
    }
  }
  return grant.save();
}

async function interaction(req, res) {
  const url = new URL(req.url, issuer);
  const match = url.pathname.match(/^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/);
  if (!match) return false;
  const [, uid, action] = match;
  res.setHeader('cache-control', 'no-store');
  const send = (status, html) => {
    res.statusCode = status;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(html);
  };
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return send(400, page('Error', '<p id="error">interaction mismatch</p>')), true;
    if (req.method === 'GET' && !action) {
      if (details.prompt.name === 'login') return send(200, loginPage(uid)), true;
      if (skipConsent) {
        const grantId = await grantConsent(details);
        await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
        return true;
      }
      const client = await provider.Client.find(details.params.client_id);
      return send(200, page('Authorize', `<h1>Authorize ${escape(client?.clientId)}</h1>
<p>Scopes: ${escape(details.params.scope)}</p>
<form id="consent-form" method="post" action="/interaction/${escape(uid)}/confirm">
<button id="consent-submit" type="submit">Allow</button>
</form>
<a id="abort" href="/interaction/${escape(uid)}/abort">Deny</a>`)), true;
    }
    if (req.method === 'POST' && action === 'login') {
      const form = await readForm(req);
      const username = form.get('username') || '';
      const user = Object.hasOwn(users, username) ? users[username] : undefined;
      if (!user || !passwordMatches(user, form.get('password'))) {
        return send(401, loginPage(uid, 'Invalid username or password')), true;
      }
      await provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
      return true;
    }
    if (req.method === 'POST' && action === 'confirm') {
      const grantId = await grantConsent(details);
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return true;
    }
    if (req.method === 'GET' && action === 'abort') {
      await provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'the user cancelled',
      }, { mergeWithLastSubmission: false });
      return true;
    }
    send(405, page('Error', '<p id="error">method not allowed</p>'));
    return true;
  } catch (error) {
    send(400, page('Error', `<p id="error">${escape(error.message)}</p>`));
    return true;
  }
}

const callback = provider.callback();
const { createServer } = await import('node:http');
const server = createServer(async (req, res) => {
  if (req.url.startsWith('/interaction/')) {
    if (await interaction(req, res)) return;
  }
  callback(req, res);
});
server.listen(port, host, () => console.log(`listening on ${issuer}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
