// Ory Polis (npm @boxyhq/saml-jackson) directory-sync SCIM API, served the way the Polis app serves it
// (pages/api/scim/v2.0/[...directory]): for bench/run.sh's side-by-side comparison only.
import http from 'node:http';
import jacksonModule from '@boxyhq/saml-jackson';

const port = Number(process.argv[2]);
const databaseUrl = process.argv[3];
const jackson = jacksonModule.default || jacksonModule;
const { directorySyncController } = await jackson({
  externalUrl: `http://127.0.0.1:${port}`,
  samlPath: '/api/oauth/saml',
  scimPath: '/api/scim/v2.0',
  db: { engine: 'sql', type: 'postgres', url: databaseUrl },
  noAnalytics: true,
});
const { data: directory, error } = await directorySyncController.directories.create({
  name: 'bench', tenant: 'bench', product: 'bench', type: 'okta-scim-v2',
});
if (error) throw new Error(JSON.stringify(error));

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const url = new URL(req.url, 'http://localhost');
      // /api/scim/v2.0/{directoryId}/{Users|Groups}[/{id}]
      const [, , , , directoryId, resourceType, resourceId] = url.pathname.split('/');
      const auth = req.headers.authorization || '';
      const text = Buffer.concat(chunks).toString();
      const query = {};
      for (const k of ['count', 'startIndex']) if (url.searchParams.has(k)) query[k] = Number(url.searchParams.get(k));
      if (url.searchParams.has('filter')) query.filter = url.searchParams.get('filter');
      const { status, data } = await directorySyncController.requests.handle({
        method: req.method, body: text ? JSON.parse(text) : undefined, directoryId, resourceType: resourceType || '',
        resourceId, apiSecret: auth.startsWith('Bearer ') ? auth.slice(7) : null, query,
      });
      res.writeHead(status, { 'Content-Type': 'application/scim+json' });
      res.end(JSON.stringify(data));
    } catch (e) {
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: String(e) }));
    }
  });
});
server.listen(port, '127.0.0.1', () => {
  console.log(`polis listening ${directory.scim.endpoint} ${directory.scim.secret}`);
});
