// SPDX-License-Identifier: AGPL-3.0-or-later
// A real SAML 2.0 identity provider (the npm package samlify) for idgate's end-to-end tests, on loopback.
//
//   node saml-idp.mjs --port 0 --key-file idp.key --cert-file idp.crt --sp-metadata URL
//        [--style okta|entra] [--binding redirect|post] [--next-key-file k --next-cert-file c]
//
// Prints "ready <port>". GET /metadata is the IdP's metadata (what an admin gives idgate, as a file or a
// URL). /sso takes idgate's AuthnRequest (HTTP-Redirect, or with --binding post an HTTP-POST whose XML
// signature it verifies against idgate's SP metadata), and answers with a page that POSTs a signed Response
// to idgate's ACS, for whoever POST /_test/user chose. GET /_test/idp-initiated does the same without a
// request (IdP-initiated, "unsolicited").
// Single Logout: GET /_test/logout?who=ada sends the browser to idgate with a signed LogoutRequest
// (IdP-initiated); /slo answers idgate's LogoutRequest with a LogoutResponse (SP-initiated). Both by the
// --binding in use.
// --style entra: Entra ID's claims (INTEROP S1): claim-URI attribute names, groups as object ids, app roles,
// an emailAddress NameID (the UPN), an sts.windows.net issuer, only the assertion signed.
// POST /_test/rotate: the IdP now signs with the next key, and its metadata lists only the next certificate
// (a certificate rollover, picked up by idgate from the metadata URL).
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

const style = args.style ?? 'okta';
const binding = args.binding ?? 'redirect';
const bindingUri = `urn:oasis:names:tc:SAML:2.0:bindings:HTTP-${binding === 'post' ? 'POST' : 'Redirect'}`;
const people = {
  ada: { nameId: 'ada-persistent-id-1', email: 'Ada@Example.com', groups: ['idgate-admins', 'sec-ir'],
    upn: 'Ada@Example.com', objectId: '0b7f2d1e-6a3c-4f1b-9e2d-5c8a7b6f4e31', given: 'Ada', surname: 'Lovelace',
    entraGroups: ['6f1c2e4a-0b9d-4d7e-9a51-3c2f8e7d1b20'], roles: ['Admin'] },
  bob: { nameId: 'bob-persistent-id-2', email: 'bob@example.com', groups: [],
    upn: 'bob@example.com', objectId: '9d3e4f5a-1b2c-4d6e-8f7a-0b1c2d3e4f5a', given: 'Bob', surname: 'Byron',
    entraGroups: [], roles: ['Reader'] },
};
const tenant = '8b5c1f7e-2d4a-4c3b-9e1f-6a7d8c9b0e12';
let current = 'ada';
let keyFile = args['key-file'];
let certFile = args['cert-file'];

const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const server = http.createServer();
server.listen(Number(args.port ?? 0), '127.0.0.1', () => {
  const port = server.address().port;
  const base = `http://127.0.0.1:${port}`;
  const entityID = style === 'entra' ? `https://sts.windows.net/${tenant}/` : `${base}/metadata`;
  const makeIdp = () => samlify.IdentityProvider({
    entityID,
    signingCert: fs.readFileSync(certFile, 'utf8'),
    privateKey: fs.readFileSync(keyFile, 'utf8'),
    isAssertionEncrypted: false,
    // With the POST binding idgate signs its requests (it has a key), and this IdP checks them.
    wantAuthnRequestsSigned: binding === 'post',
    wantLogoutRequestSigned: binding === 'post',
    nameIDFormat: ['urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'],
    singleSignOnService: [{ Binding: bindingUri, Location: `${base}/sso` }],
    singleLogoutService: [{ Binding: bindingUri, Location: `${base}/slo` }],
  });
  let idp = makeIdp();
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
  const form = async (req) => Object.fromEntries(new URLSearchParams(await body(req)));
  // The HTTP-POST binding's page: the browser posts the message on.
  const postPage = (res, action, fields) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html><body onload="document.forms[0].submit()"><form method="post" action="${escape(action)}">`
      + Object.entries(fields).filter(([, v]) => v !== undefined && v !== '')
        .map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}"/>`).join('')
      + '<noscript><button type="submit">Continue</button></noscript></form></body></html>');
  };
  // A LogoutRequest must name the person as this IdP issued the NameID, format included (SAML core §3.7.1).
  const issuedFormat = style === 'entra' ? 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'
    : 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
  const sameNameIdFormat = (xml, res) => {
    const format = /<saml:NameID[^>]*Format="([^"]+)"/.exec(xml)?.[1];
    if (format === issuedFormat) return true;
    res.statusCode = 400;
    res.end(`the LogoutRequest's NameID format is ${format}, not ${issuedFormat}`);
    return false;
  };
  // An outgoing logout message by the binding in use.
  const send = (res, message, parameter) => {
    if (binding === 'post') {
      postPage(res, message.entityEndpoint, { [parameter]: message.context, RelayState: message.relayState });
    } else {
      res.statusCode = 302;
      res.setHeader('Location', message.context);
      res.end();
    }
  };

  server.on('request', async (req, res) => {
    try {
      const url = new URL(req.url, base);
      if (req.method === 'POST' && url.pathname === '/_test/user') {
        current = await body(req);
        res.end('ok');
      } else if (req.method === 'POST' && url.pathname === '/_test/rotate') {
        keyFile = args['next-key-file'];
        certFile = args['next-cert-file'];
        idp = makeIdp();
        res.end('rotated');
      } else if (url.pathname === '/metadata') {
        res.setHeader('Content-Type', 'application/samlmetadata+xml');
        res.end(idp.getMetadata());
      } else if (url.pathname === '/sso' || url.pathname === '/_test/idp-initiated') {
        const theSp = await serviceProvider();
        const query = req.method === 'POST' ? await form(req) : Object.fromEntries(url.searchParams);
        let requestId = '';
        if (url.pathname === '/sso') {
          const parsed = req.method === 'POST'
            ? await idp.parseLoginRequest(theSp, 'post', { body: query })
            : await idp.parseLoginRequest(theSp, 'redirect', { query, octetString: '' });
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
                InResponseTo: requestId, Issuer: entityID,
                StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
                NameIDFormat: style === 'entra' ? 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'
                  : 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
                NameID: style === 'entra' ? person.upn : person.nameId,
                SubjectConfirmationDataNotOnOrAfter: later.toISOString(), SubjectRecipient: acs,
                ConditionsNotBefore: now.toISOString(), ConditionsNotOnOrAfter: later.toISOString(),
                Audience: theSp.entityMeta.getEntityID(),
              };
              let context = template;
              for (const [k, v] of Object.entries(values)) context = context.split(`{${k}}`).join(escape(v));
              context = context.replace('{AuthnStatement}',
                `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="_session_${current}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`);
              const claims = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';
              const ms = 'http://schemas.microsoft.com';
              const statement = style === 'entra'
                ? attribute(`${ms}/identity/claims/tenantid`, [tenant])
                  + attribute(`${ms}/identity/claims/objectidentifier`, [person.objectId])
                  + attribute(`${ms}/identity/claims/displayname`, [`${person.given} ${person.surname}`])
                  + attribute(`${ms}/ws/2008/06/identity/claims/groups`, person.entraGroups)
                  + attribute(`${ms}/ws/2008/06/identity/claims/role`, person.roles)
                  + attribute(`${ms}/identity/claims/identityprovider`, [`https://sts.windows.net/${tenant}/`])
                  + attribute(`${ms}/claims/authnmethodsreferences`, ['http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password'])
                  + attribute(`${claims}/givenname`, [person.given])
                  + attribute(`${claims}/surname`, [person.surname])
                  + attribute(`${claims}/emailaddress`, [person.email])
                  + attribute(`${claims}/name`, [person.upn])
                : attribute('email', [person.email]) + attribute('groups', person.groups);
              context = context.replace('{AttributeStatement}', `<saml:AttributeStatement>${statement}</saml:AttributeStatement>`);
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
        send(res, idp.createLogoutRequest(theSp, binding, { logoutNameID: style === 'entra' ? person.upn : person.nameId },
          'idp-relay'), 'SAMLRequest');
      } else if (url.pathname === '/slo' && req.method === 'POST') {
        const fields = await form(req);
        if (!fields.SAMLRequest) {
          res.end('signed out at the IdP');
          return;
        }
        // idgate's LogoutRequest by POST: its XML signature checked against idgate's metadata, then answered.
        const theSp = await serviceProvider();
        if (!sameNameIdFormat(Buffer.from(fields.SAMLRequest, 'base64').toString(), res)) return;
        const parsed = await idp.parseLogoutRequest(theSp, 'post', { body: fields });
        send(res, idp.createLogoutResponse(theSp, { extract: { request: { id: parsed.extract.request.id } } }, 'post',
          fields.RelayState ?? ''), 'SAMLResponse');
      } else if (url.pathname === '/slo' && url.searchParams.get('SAMLRequest')) {
        // idgate's LogoutRequest: read its ID, answer with a signed LogoutResponse to idgate's SLO endpoint.
        const theSp = await serviceProvider();
        const xml = zlib.inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest'), 'base64')).toString();
        if (!sameNameIdFormat(xml, res)) return;
        const id = /ID="([^"]+)"/.exec(xml)[1];
        send(res, idp.createLogoutResponse(theSp, { extract: { request: { id } } }, 'redirect',
          url.searchParams.get('RelayState') ?? ''), 'SAMLResponse');
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
