// SPDX-License-Identifier: AGPL-3.0-or-later
// A real SAML 2.0 identity provider (the npm package samlify) for idgate's end-to-end tests, on loopback.
//
//   node saml-idp.mjs --port 0 --key-file idp.key --cert-file idp.crt --sp-metadata URL
//
// Prints "ready <port>". GET /metadata is the IdP's metadata (what an admin gives idgate). GET /sso takes
// idgate's AuthnRequest (HTTP-Redirect), checks it against idgate's SP metadata, and answers with a page
// that POSTs a signed Response to idgate's ACS (HTTP-POST binding), for whoever POST /_test/user chose.
// GET /_test/idp-initiated does the same without a request (IdP-initiated, "unsolicited").
// Single Logout: GET /_test/logout?who=ada sends the browser to idgate with a signed LogoutRequest
// (IdP-initiated); GET /slo answers idgate's LogoutRequest with a LogoutResponse (SP-initiated).
import fs from 'node:fs';
import http from 'node:http';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import * as samlify from 'samlify';
import dns from 'node:dns';

// idgate listens on 127.0.0.1; Node 18 resolves "localhost" to ::1 first and does not fall back.
dns.setDefaultResultOrder('ipv4first');

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);
// The IdP side of the test trusts the shape of idgate's AuthnRequest; idgate's side validates everything.
samlify.setSchemaValidator({ validate: () => Promise.resolve('skipped') });

const people = {
  ada: { nameId: 'ada-persistent-id-1', email: 'Ada@Example.com', groups: ['idgate-admins', 'sec-ir'] },
  bob: { nameId: 'bob-persistent-id-2', email: 'bob@example.com', groups: [] },
};
let current = 'ada';

const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const server = http.createServer();
server.listen(Number(args.port ?? 0), '127.0.0.1', () => {
  const port = server.address().port;
  const base = `http://127.0.0.1:${port}`;
  const idp = samlify.IdentityProvider({
    entityID: `${base}/metadata`,
    signingCert: fs.readFileSync(args['cert-file'], 'utf8'),
    privateKey: fs.readFileSync(args['key-file'], 'utf8'),
    isAssertionEncrypted: false,
    wantAuthnRequestsSigned: false,
    nameIDFormat: ['urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'],
    singleSignOnService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${base}/sso` }],
    singleLogoutService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${base}/slo` }],
  });
  let sp = null;
  const serviceProvider = async () => {
    if (!sp) {
      const metadata = await (await fetch(args['sp-metadata'])).text();
      sp = samlify.ServiceProvider({ metadata, wantLogoutRequestSigned: true, wantLogoutResponseSigned: true });
    }
    return sp;
  };
  const body = (req) => new Promise((resolve) => {
    let text = '';
    req.on('data', (c) => { text += c; });
    req.on('end', () => resolve(text.trim()));
  });

  server.on('request', async (req, res) => {
    try {
      const url = new URL(req.url, base);
      if (req.method === 'POST' && url.pathname === '/_test/user') {
        current = await body(req);
        res.end('ok');
      } else if (url.pathname === '/metadata') {
        res.setHeader('Content-Type', 'application/samlmetadata+xml');
        res.end(idp.getMetadata());
      } else if (url.pathname === '/sso' || url.pathname === '/_test/idp-initiated') {
        const theSp = await serviceProvider();
        const query = Object.fromEntries(url.searchParams);
        let requestId = '';
        if (url.pathname === '/sso') {
          const parsed = await idp.parseLoginRequest(theSp, 'redirect', { query, octetString: '' });
          requestId = parsed.extract.request.id;
        }
        const person = people[current];
        const acs = theSp.entityMeta.getAssertionConsumerService('post');
        const now = new Date();
        const later = new Date(now.getTime() + 5 * 60 * 1000);
        const attribute = (name, values) => `<saml:Attribute Name="${escape(name)}">${values
          .map((v) => `<saml:AttributeValue xsi:type="xs:string">${escape(v)}</saml:AttributeValue>`)
          .join('')}</saml:Attribute>`;
        const response = await idp.createLoginResponse(theSp, { extract: { request: { id: requestId } } }, 'post',
          { email: person.email }, {
            relayState: query.RelayState,
            customTagReplacement: (template) => {
              const id = `_${crypto.randomUUID()}`;
              const assertionId = `_${crypto.randomUUID()}`;
              const values = {
                ID: id, AssertionID: assertionId, IssueInstant: now.toISOString(), Destination: acs,
                InResponseTo: requestId, Issuer: `${base}/metadata`,
                StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
                NameIDFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent', NameID: person.nameId,
                SubjectConfirmationDataNotOnOrAfter: later.toISOString(), SubjectRecipient: acs,
                ConditionsNotBefore: now.toISOString(), ConditionsNotOnOrAfter: later.toISOString(),
                Audience: theSp.entityMeta.getEntityID(),
              };
              let context = template;
              for (const [k, v] of Object.entries(values)) context = context.split(`{${k}}`).join(escape(v));
              context = context.replace('{AuthnStatement}',
                `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="_session_${current}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`);
              context = context.replace('{AttributeStatement}',
                `<saml:AttributeStatement>${attribute('email', [person.email])}${attribute('groups', person.groups)}</saml:AttributeStatement>`);
              return { id, context };
            },
          });
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.end(`<!doctype html><html><body onload="document.forms[0].submit()"><form method="post" action="${escape(response.entityEndpoint)}">`
          + `<input type="hidden" name="SAMLResponse" value="${escape(response.context)}"/>`
          + `<input type="hidden" name="RelayState" value="${escape(response.relayState ?? '')}"/>`
          + '<noscript><button type="submit">Continue</button></noscript></form></body></html>');
      } else if (url.pathname === '/_test/logout') {
        const theSp = await serviceProvider();
        const person = people[url.searchParams.get('who')];
        const { context } = idp.createLogoutRequest(theSp, 'redirect', { logoutNameID: person.nameId }, 'idp-relay');
        res.statusCode = 302;
        res.setHeader('Location', context);
        res.end();
      } else if (url.pathname === '/slo' && url.searchParams.get('SAMLRequest')) {
        // idgate's LogoutRequest: read its ID, answer with a signed LogoutResponse to idgate's SLO endpoint.
        const theSp = await serviceProvider();
        const xml = zlib.inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest'), 'base64')).toString();
        const id = /ID="([^"]+)"/.exec(xml)[1];
        const { context } = idp.createLogoutResponse(theSp, { extract: { request: { id } } }, 'redirect',
          url.searchParams.get('RelayState') ?? '');
        res.statusCode = 302;
        res.setHeader('Location', context);
        res.end();
      } else if (url.pathname === '/slo') {
        res.end('signed out at the IdP');
      } else {
        res.statusCode = 404;
        res.end('not found');
      }
    } catch (err) {
      console.error(err);
      res.statusCode = 500;
      res.end(String(err));
    }
  });
  console.log(`ready ${port}`);
});
