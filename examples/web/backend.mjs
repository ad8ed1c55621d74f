// The example page's own backend, as an app's would be: it serves the page and mints a
// short-lived JWT scoped to the one client the user may see (in a real app: after its own
// login, from its own user-to-client mapping). The browser never holds a static token or
// the ComplyCube key. Node.js only, no packages.
//
//   FACADE_JWT_SECRET=... FACADE_JWT_ISSUER=example-backend FACADE_JWT_AUDIENCE=complycube-graphql \
//   API=http://127.0.0.1:8080 PORT=5173 node examples/web/backend.mjs
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';

const env = (name, fallback) => process.env[name] ?? fallback;
const secret = env('FACADE_JWT_SECRET');
if (!secret) throw new Error('set FACADE_JWT_SECRET, the secret complycube-graphql checks JWTs with');
const issuer = env('FACADE_JWT_ISSUER', 'example-backend');
const audience = env('FACADE_JWT_AUDIENCE', 'complycube-graphql');
const api = env('API', 'http://127.0.0.1:8080');
const lifetime = 10 * 60; // seconds: a page session, refreshed by signing in again

const b64url = (value) => Buffer.from(value).toString('base64url');

function jwt(clientId) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: 'example-user', client_ids: [clientId], iss: issuer, aud: audience, iat: now, exp: now + lifetime };
  const head = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

const files = { '/': 'index.html', '/index.html': 'index.html', '/app.js': 'app.js' };
const types = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8' };
const here = new URL('.', import.meta.url);

const server = createServer(async (request, response) => {
  const path = new URL(request.url, 'http://x').pathname;
  if (request.method === 'POST' && path === '/token') {
    let body = '';
    for await (const chunk of request) body += chunk;
    let client;
    try {
      client = JSON.parse(body || '{}').client;
    } catch {
      client = undefined; // not JSON: refused below
    }
    if (typeof client !== 'string' || !/^[0-9a-f]{24}$/.test(client)) {
      response.writeHead(400).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: jwt(client) }));
    return;
  }
  if (path === '/config.json') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ api, client: env('CLIENT') }));
    return;
  }
  const file = files[path];
  if (!file) {
    response.writeHead(404).end();
    return;
  }
  const text = await readFile(new URL(file, here));
  response.writeHead(200, { 'content-type': types[file.split('.').pop()] }).end(text);
});

server.listen(Number(env('PORT', 5173)), '127.0.0.1', () => {
  const { port } = server.address();
  console.log(`example page on http://127.0.0.1:${port}/ (GraphQL at ${api})`);
});
