// SPDX-License-Identifier: AGPL-3.0-or-later
// A real OpenID Provider (the npm package oidc-provider) for idgate's end-to-end tests, on loopback.
//
//   node oidc-idp.mjs --port 0 --client-id idgate --client-secret s --redirect-uri URL
//                     [--backchannel-uri URL] [--post-logout-uri URL] [--key-seed N]
//                     [--client-key-file client.pem]   (private_key_jwt: the client's key; its public half
//                                                       is registered, the secret is not used)
//
// Prints "ready <port>" once listening. The interaction (login) is automatic: the person who signs in is
// the one last chosen with POST /_test/user (a plain-text account id), so a test -- or a browser -- only
// follows redirects. Test controls, all on loopback:
//   POST /_test/user               "ada" | "bob" | "zoe" | "!deny" (the next sign-in is refused: access_denied)
//   POST /_test/userinfo-sub       "wrong" makes the userinfo endpoint answer about someone else; "" undoes it
//   POST /_test/backchannel-logout "ada": sends a back-channel logout token for ada's last session
//   POST /_test/forge <mode>       the next ID token from the token endpoint is tampered with, as an attacker
//                                  in the middle would: alg-none, hs256-public-key, unknown-key, wrong-issuer,
//                                  wrong-audience, expired, wrong-nonce; "" stops
// --key-seed picks the signing key's id ("key-<seed>"): restarting with another seed rotates the key.
//
// An API client too, for tokens an identity provider issues to call an API on its own behalf (Entra ID's
// SCIM provisioning token, INTEROP E12): with --api-client-id and --api-client-secret, POST /token with
// grant_type=client_credentials and resource=<an absolute URI> answers a JWT access token (RS256, signed
// with the provider's key) whose aud is that resource; --api-tenant adds a `tid` claim to it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';
import dns from 'node:dns';

// idgate listens on 127.0.0.1; Node 18 resolves "localhost" to ::1 first and does not fall back.
dns.setDefaultResultOrder('ipv4first');

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);
const port = Number(args.port ?? 0);
const seed = args['key-seed'] ?? '1';

// People. groups as Okta sends them; zoe is in too many groups for a token (Entra's overage: a link instead).
const people = {
  ada: { email: 'Ada@Example.com', given_name: 'Ada', family_name: 'Lovelace', name: 'Ada Lovelace', groups: ['idgate-admins', 'sec-ir'] },
  bob: { email: 'bob@example.com', given_name: 'Bob', family_name: 'Builder', name: 'Bob Builder', groups: [] },
  zoe: { email: 'zoe@example.com', given_name: 'Zoe', family_name: 'Overage', name: 'Zoe Overage', hasgroups: true },
};
let current = 'ada';
let userinfoSub = '';
let forge = '';
const lastSid = {};

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: `key-${seed}`, alg: 'RS256', use: 'sig' };
const publicPem = crypto.createPublicKey(privateKey).export({ format: 'pem', type: 'spki' });
const attacker = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

const b64 = (o) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
// A tampered copy of a genuine ID token.
function tamper(token, mode) {
  const [, payloadPart] = token.split('.');
  const claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString());
  const rs256 = (header, payload, key) => {
    const input = `${b64(header)}.${b64(payload)}`;
    return `${input}.${crypto.sign('RSA-SHA256', Buffer.from(input), key).toString('base64url')}`;
  };
  switch (mode) {
    case 'alg-none':
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    case 'hs256-public-key': {
      // The classic: HMAC "keyed" with the provider's public key, which anyone can download.
      const input = `${b64({ alg: 'HS256', kid: jwk.kid, typ: 'JWT' })}.${b64(claims)}`;
      return `${input}.${crypto.createHmac('sha256', publicPem).update(input).digest('base64url')}`;
    }
    case 'unknown-key':
      return rs256({ alg: 'RS256', kid: 'attacker-key', typ: 'JWT' }, claims, attacker);
    case 'wrong-issuer':
      return rs256({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' }, { ...claims, iss: 'http://127.0.0.1:1' }, privateKey);
    case 'wrong-audience':
      return rs256({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' }, { ...claims, aud: 'another-client' }, privateKey);
    case 'expired':
      return rs256({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' },
        { ...claims, iat: claims.iat - 7200, exp: claims.iat - 3600 }, privateKey);
    case 'wrong-nonce':
      return rs256({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' }, { ...claims, nonce: 'not-the-nonce' }, privateKey);
    default:
      return token;
  }
}

const server = http.createServer();
server.listen(port, '127.0.0.1', () => {
  const actual = server.address().port;
  const issuer = `http://127.0.0.1:${actual}`;
  const client = {
    client_id: args['client-id'],
    client_secret: args['client-secret'],
    redirect_uris: [args['redirect-uri']],
    post_logout_redirect_uris: args['post-logout-uri'] ? [args['post-logout-uri']] : [],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  };
  if (args['client-key-file']) {
    const publicJwk = crypto.createPublicKey(fs.readFileSync(args['client-key-file'], 'utf8')).export({ format: 'jwk' });
    client.token_endpoint_auth_method = 'private_key_jwt';
    client.jwks = { keys: [{ ...publicJwk, kid: 'idgate-client-key', use: 'sig', alg: 'RS256' }] };
    delete client.client_secret;
  }
  if (args['backchannel-uri']) {
    client.backchannel_logout_uri = args['backchannel-uri'];
    client.backchannel_logout_session_required = true;
  }
  const clients = [client];
  const api = Boolean(args['api-client-id']);
  if (api) {
    clients.push({
      client_id: args['api-client-id'],
      client_secret: args['api-client-secret'],
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    });
  }
  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: [jwk] },
    pkce: { required: () => true, methods: ['S256'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
      groups: ['groups', 'hasgroups'],
    },
    // Requested claims go into the ID token itself, as Okta and Entra ID do for these scopes.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      clientCredentials: { enabled: api },
      resourceIndicators: {
        enabled: api,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => ({
          scope: 'scim',
          audience: resource,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    extraTokenClaims: async () => (args['api-tenant'] ? { tid: args['api-tenant'] } : undefined),
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    // First-party client: no consent screen.
    loadExistingGrant: async (ctx) => {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid email profile groups');
      await grant.save();
      return grant;
    },
    findAccount: async (ctx, id) => {
      const person = people[id];
      if (!person) return undefined;
      return {
        accountId: id,
        claims: async (use) => {
          const sub = use === 'userinfo' && userinfoSub ? userinfoSub : id;
          return { sub, email_verified: true, ...person };
        },
      };
    },
    ttl: { Session: 3600, Interaction: 600, Grant: 3600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600, ClientCredentials: 600 },
    cookies: { keys: ['idgate-e2e-cookie-key'] },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  provider.use(async (ctx, next) => {
    await next();
    if (forge && ctx.path === '/token' && ctx.body && ctx.body.id_token) {
      ctx.body = { ...ctx.body, id_token: tamper(ctx.body.id_token, forge) };
      forge = '';
    }
  });
  // Remember each account's session id (the ID token's sid) for the back-channel logout control.
  provider.on('session.saved', (session) => {
    if (session.accountId) lastSid[session.accountId] = session.jti;
  });

  const body = (req) => new Promise((resolve) => {
    let text = '';
    req.on('data', (c) => { text += c; });
    req.on('end', () => resolve(text.trim()));
  });
  const callback = provider.callback();
  server.on('request', async (req, res) => {
    try {
      const url = new URL(req.url, issuer);
      if (req.method === 'POST' && url.pathname === '/_test/user') {
        current = await body(req);
        res.end('ok');
      } else if (req.method === 'POST' && url.pathname === '/_test/userinfo-sub') {
        userinfoSub = await body(req);
        res.end('ok');
      } else if (req.method === 'POST' && url.pathname === '/_test/forge') {
        forge = await body(req);
        res.end('ok');
      } else if (req.method === 'POST' && url.pathname === '/_test/backchannel-logout') {
        const who = await body(req);
        const found = await provider.Client.find(args['client-id']);
        await found.backchannelLogout(who, lastSid[who]);
        res.end('ok');
      } else if (req.method === 'GET' && url.pathname.startsWith('/interaction/')) {
        const result = current === '!deny'
          ? { error: 'access_denied', error_description: 'the person declined' }
          : { login: { accountId: current } };
        await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
      } else {
        callback(req, res);
      }
    } catch (err) {
      console.error(err);
      res.statusCode = 500;
      res.end(String(err));
    }
  });
  console.log(`ready ${actual}`);
});
