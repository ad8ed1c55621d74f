// A page that shows a client's live photos through complycube-graphql, as a frontend
// would: it gets a short-lived JWT scoped to one client from its own backend
// (backend.mjs, POST /token), pages with `first`/`after`, shows 256-pixel thumbnails
// (`srcset` offers 512 for dense screens) that load lazily, and opens the original on a
// click. Image URLs are signed: an <img> loads them with no Authorization header.

const params = new URLSearchParams(location.search);
const config = await (await fetch('./config.json')).json();
const api = params.get('api') ?? config.api; // the GraphQL service's origin
const PAGE = 12;

const QUERY = `query Photos($id: ID!, $first: Int!, $after: String) {
  client(id: $id) {
    livePhotos(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id createdAt small: imageUrl(width: 256) large: imageUrl(width: 512) original: imageUrl } }
    }
  }
}`;

const grid = document.querySelector('#grid');
const more = document.querySelector('#more');
const status = document.querySelector('#status');
const lightbox = document.querySelector('#lightbox');
const original = document.querySelector('#original');

// What a test (or a curious developer) can read of the page's state.
const state = (window.__photos = { shown: 0, total: null, done: false, errors: [], violations: [] });
document.addEventListener('securitypolicyviolation', (e) => state.violations.push(e.violatedDirective));

let token = null;
let client = null;
let after = null;

async function signIn(id) {
  const answer = await fetch('./token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client: id }),
  });
  if (!answer.ok) throw new Error(`the backend refused: ${answer.status}`);
  ({ token } = await answer.json());
  client = id;
  after = null;
  grid.replaceChildren();
  Object.assign(state, { shown: 0, total: null, done: false });
}

async function graphql(query, variables) {
  const answer = await fetch(new URL('/graphql', api), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      'x-request-id': crypto.randomUUID(),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await answer.json();
  if (body.errors?.length) {
    const id = answer.headers.get('x-request-id');
    throw new Error(`${body.errors[0].message} (request ${id})`);
  }
  return body.data;
}

// Image URLs are root-relative unless the service has --public-url: resolve them on it.
const absolute = (url) => new URL(url, api).href;

function show(node) {
  const figure = document.createElement('figure');
  const img = document.createElement('img');
  img.loading = 'lazy';
  img.alt = `Live photo taken ${node.createdAt}`;
  img.src = absolute(node.small);
  img.srcset = `${absolute(node.small)} 256w, ${absolute(node.large)} 512w`;
  img.sizes = '(min-resolution: 2dppx) 512px, 256px';
  img.dataset.original = absolute(node.original);
  // An expired URL is a failed image, not a failed page: mark it and carry on.
  img.addEventListener('error', () => img.classList.add('failed'));
  img.addEventListener('click', () => {
    original.src = img.dataset.original;
    lightbox.hidden = false;
  });
  const caption = document.createElement('figcaption');
  caption.textContent = new Date(node.createdAt).toLocaleString();
  figure.append(img, caption);
  grid.append(figure);
}

async function loadMore() {
  more.disabled = true;
  try {
    const data = await graphql(QUERY, { id: client, first: PAGE, after });
    const photos = data.client.livePhotos;
    photos.edges.forEach(({ node }) => show(node));
    state.shown += photos.edges.length;
    state.total = photos.totalCount;
    after = photos.pageInfo.endCursor;
    state.done = !photos.pageInfo.hasNextPage;
    more.hidden = state.done;
    status.textContent = `${state.shown} of ${state.total} photos`;
  } catch (e) {
    state.errors.push(String(e));
    status.textContent = String(e);
  } finally {
    more.disabled = false;
  }
}

lightbox.addEventListener('click', () => (lightbox.hidden = true));
more.addEventListener('click', loadMore);
document.querySelector('#signin').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    await signIn(new FormData(event.target).get('client').trim());
    await loadMore();
  } catch (e) {
    state.errors.push(String(e));
    status.textContent = String(e);
  }
});

const preset = params.get('client') ?? config.client;
if (preset) {
  document.querySelector('[name=client]').value = preset;
  document.querySelector('#signin').requestSubmit();
}
