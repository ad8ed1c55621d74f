// Benchmark reference only, not part of the product: benches/reference/compare.sh runs it
// beside the service against the same simulator.
// Reference implementation: Apollo Server 5 (standalone) + per-request DataLoader,
// proxying the ComplyCube-style REST endpoint GET {UPSTREAM}/livePhotos.
//
// NODE_ENV must be set before graphql / @apollo/server are loaded (graphql-js reads it
// at module load), hence the dynamic imports below.
process.env.NODE_ENV ??= 'production';

const { ApolloServer } = await import('@apollo/server');
const { startStandaloneServer } = await import('@apollo/server/standalone');
const { ApolloServerPluginLandingPageDisabled } = await import(
  '@apollo/server/plugin/disabled'
);
const { GraphQLError, GraphQLScalarType, Kind } = await import('graphql');
const { default: DataLoader } = await import('dataloader');
const http = await import('node:http');

const PORT = Number(process.env.PORT ?? 4000);
const UPSTREAM = (process.env.UPSTREAM ?? 'http://127.0.0.1:18081/v1').replace(/\/+$/, '');
const API_KEY = process.env.API_KEY ?? 'k';
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 1000; // upstream accepts pageSize 1..1000

const typeDefs = /* GraphQL */ `
  scalar DateTime
  type Query { client(id: ID!): Client }
  type Client {
    id: ID!
    livePhotos(first: Int, after: String, last: Int, before: String): LivePhotoConnection!
  }
  type LivePhotoConnection {
    edges: [LivePhotoEdge!]!
    nodes: [LivePhoto!]!
    pageInfo: PageInfo!
    totalCount: Int!
  }
  type LivePhotoEdge { cursor: String!  node: LivePhoto! }
  type PageInfo {
    hasPreviousPage: Boolean!
    hasNextPage: Boolean!
    startCursor: String
    endCursor: String
  }
  type LivePhoto {
    id: ID!
    clientId: ID!
    downloadLink: String!
    contentType: String!
    performLivenessCheck: Boolean!
    size: Int!
    createdAt: DateTime!
    updatedAt: DateTime!
  }
`;

// Upstream already sends ISO-8601 strings; pass them through.
const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  serialize: (v) => (v instanceof Date ? v.toISOString() : String(v)),
  parseValue: (v) => {
    const d = new Date(v);
    if (typeof v !== 'string' || Number.isNaN(d.getTime())) {
      throw new GraphQLError('DateTime must be an ISO-8601 string');
    }
    return v;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING || Number.isNaN(new Date(ast.value).getTime())) {
      throw new GraphQLError('DateTime must be an ISO-8601 string');
    }
    return ast.value;
  },
});

const encodeCursor = (offset) => Buffer.from(`offset:${offset}`).toString('base64');
function decodeCursor(cursor, arg) {
  const m = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  if (!m) {
    throw new GraphQLError(`Invalid cursor in \`${arg}\``, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return Number(m[1]);
}
function checkCount(n, arg) {
  if (n != null && (n < 0 || n > MAX_PAGE_SIZE)) {
    throw new GraphQLError(`\`${arg}\` must be between 0 and ${MAX_PAGE_SIZE}`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
}

// The upstream is called the way a tuned Node service calls it: `node:http` through one
// keep-alive Agent (connections reused, as the Rust service's pool does), not `fetch`
// (undici's per-request overhead costs about a quarter more CPU per request here).
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { Authorization: API_KEY } }, (res) => {
      res.setEncoding('utf8');
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function fetchPage(key) {
  const [clientId, page, pageSize] = key.split('|');
  const url =
    `${UPSTREAM}/livePhotos?clientId=${encodeURIComponent(clientId)}` +
    `&page=${page}&pageSize=${pageSize}`;
  const res = await get(url);
  if (res.status < 200 || res.status >= 300) {
    const code =
      res.status === 404 ? 'NOT_FOUND' : res.status === 400 ? 'BAD_USER_INPUT' : 'UPSTREAM_ERROR';
    let message = `Upstream answered ${res.status}`;
    try {
      message = JSON.parse(res.body).message ?? message;
    } catch {}
    return new GraphQLError(message, { extensions: { code, upstreamStatus: res.status } });
  }
  return JSON.parse(res.body);
}

// Per-request loader: key = `clientId|page|pageSize`.
const createPageLoader = () =>
  new DataLoader((keys) => Promise.all(keys.map((k) => fetchPage(k).catch((e) => e))));

// Items [start, start+count) via pages of size `count` (1 page when aligned, else 2).
async function loadRange(loader, clientId, start, count) {
  const n = Math.max(1, Math.min(count, MAX_PAGE_SIZE));
  const p1 = Math.floor(start / n) + 1;
  const p2 = count > 0 ? Math.floor((start + count - 1) / n) + 1 : p1;
  const keys = [];
  for (let p = p1; p <= p2; p++) keys.push(`${clientId}|${p}|${n}`);
  const pages = await Promise.all(keys.map((k) => loader.load(k)));
  const all = pages.flatMap((pg) => pg.items);
  const from = start - (p1 - 1) * n;
  return { totalItems: pages[0].totalItems, items: all.slice(from, from + count) };
}

async function livePhotos(client, { first, after, last, before }, { loaders }) {
  checkCount(first, 'first');
  checkCount(last, 'last');
  let start = after != null ? decodeCursor(after, 'after') + 1 : 0;
  let end = before != null ? decodeCursor(before, 'before') : undefined;
  if (first != null) end = Math.min(end ?? Infinity, start + first);
  if (last != null) {
    if (end === undefined) {
      // Need the total to anchor `last` at the end of the list.
      const probe = await loader(loaders, client.id, 1, last || 1);
      end = probe.totalItems;
    }
    start = Math.max(start, end - last);
  }
  if (end === undefined) end = start + DEFAULT_PAGE_SIZE;
  const count = Math.max(0, end - start);
  const { totalItems, items } = await loadRange(loaders.pages, client.id, start, count);

  const edges = items.map((node, i) => ({ cursor: encodeCursor(start + i), node }));
  return {
    edges,
    nodes: items,
    totalCount: totalItems,
    pageInfo: {
      hasPreviousPage: start > 0,
      hasNextPage: start + items.length < totalItems,
      startCursor: edges.length ? edges[0].cursor : null,
      endCursor: edges.length ? edges[edges.length - 1].cursor : null,
    },
  };
}
const loader = (loaders, clientId, page, pageSize) =>
  loaders.pages.load(`${clientId}|${page}|${pageSize}`);

const resolvers = {
  DateTime,
  Query: { client: (_, { id }) => ({ id }) },
  Client: { livePhotos },
};

const server = new ApolloServer({
  typeDefs,
  resolvers,
  plugins: [ApolloServerPluginLandingPageDisabled()],
});

const { url } = await startStandaloneServer(server, {
  listen: { port: PORT },
  context: async () => ({ loaders: { pages: createPageLoader() } }),
});
console.log(`Apollo reference server ready at ${url} (upstream ${UPSTREAM})`);
