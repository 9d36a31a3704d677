// SPDX-License-Identifier: AGPL-3.0-or-later
// A real browser (Debian's chromium, driven by playwright-core) through idgate's OpenID Connect sign-in and
// its "Sign-in failed" page. Run by tests/integration/oidc_test.cpp, which starts idgate and the provider:
//   node browser-sign-in.mjs --idgate http://127.0.0.1:PORT --idp http://127.0.0.1:PORT --connection NAME
// Prints one line per check and exits 1 on the first failure.
import { chromium } from 'playwright-core';
import dns from 'node:dns';

// idgate listens on 127.0.0.1; Node 18 resolves "localhost" to ::1 first and does not fall back.
dns.setDefaultResultOrder('ipv4first');

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

function check(condition, what) {
  if (!condition) {
    console.log(`FAIL ${what}`);
    process.exit(1);
  }
  console.log(`ok ${what}`);
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  // Root in a container has no user namespaces for chromium's sandbox; the pages are our own, on loopback.
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const context = await browser.newContext();
  const page = await context.newPage();

  // The sign-in: idgate -> provider -> idgate callback -> return_to, all followed by the browser.
  await fetch(`${args.idp}/_test/user`, { method: 'POST', body: 'ada' });
  await page.goto(`${args.idgate}/sso/oidc/${args.connection}/login?return_to=/api/v1/me`);
  check(page.url() === `${args.idgate}/api/v1/me`, `signed in and back at return_to (${page.url()})`);
  const cookies = await context.cookies(args.idgate);
  const session = cookies.find((c) => c.name === 'idgate_session');
  check(session && session.httpOnly && session.sameSite === 'Lax', 'the session cookie is HttpOnly and SameSite=Lax');
  const me = JSON.parse(await page.locator('body').innerText());
  check(me.user_name === 'ada@example.com' && me.role === 'admin', `the mapped user and role (${me.user_name}, ${me.role})`);

  // A forged callback: the person sees a plain page with a reference, and no internal detail.
  const response = await page.goto(`${args.idgate}/sso/oidc/${args.connection}/callback?state=forged&code=x`);
  check(response.status() === 403, 'a forged callback is refused with 403');
  check((await page.title()) === 'Sign-in failed', 'the page is titled "Sign-in failed"');
  await page.getByRole('heading', { name: 'Sign-in failed' }).waitFor();
  const reference = (await page.locator('#reference').innerText()).trim();
  check(reference.length > 0 && reference === response.headers()['x-request-id'], `the reference is the request id (${reference})`);
  const text = await page.locator('body').innerText();
  check(!/state|forged|token|nonce/i.test(text), 'the page says nothing about why');
} finally {
  await browser.close();
}
