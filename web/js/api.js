// The server's public API as the dashboard reads it: GET /v0/pipes (which
// endpoints the token may read and their parameters) and
// GET /v0/pipes/NAME.json, with the token in the Authorization header. Only
// this server is ever asked (the page's Content-Security-Policy allows no
// other host).

const TOKEN_KEY = 'usagedb.token';

// ?token=T in the page's URL: kept, and removed from the address bar so a
// shared link never carries it.
export function takeTokenFromUrl() {
  const url = new URL(location.href);
  const t = url.searchParams.get('token');
  if (t === null) return;
  if (t) localStorage.setItem(TOKEN_KEY, t);
  url.searchParams.delete('token');
  history.replaceState(null, '', url.pathname + url.search + url.hash);
}

export function token() {
  return localStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(t) {
  if (t) localStorage.setItem(TOKEN_KEY, t);
  else localStorage.removeItem(TOKEN_KEY);
}

// An error answer of the API: its own words ({"error": "..."}) and status.
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function getJson(path) {
  let res;
  try {
    res = await fetch(path, { headers: { Authorization: `Bearer ${token()}` }, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(`the server did not answer (${e.message})`, 0);
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) throw new ApiError(body && body.error ? body.error : `HTTP ${res.status}`, res.status);
  if (body === null) throw new ApiError(`${path}: the answer is not JSON`, res.status);
  return body;
}

// What the token may read: name -> {description, parameters: Map(name -> {type, required, default})}.
export async function loadCatalog() {
  const body = await getJson('/v0/pipes');
  const catalog = new Map();
  for (const p of body.pipes) {
    catalog.set(p.name, {
      description: p.description,
      parameters: new Map(p.parameters.map((x) => [x.name, x])),
      columns: p.columns,
    });
  }
  return catalog;
}

// The fixed_params a JWT pins, by endpoint (decoded for display only: the
// server verifies the token and applies them). {} for a static token.
export function pinnedParams() {
  const parts = token().split('.');
  if (parts.length !== 3) return {};
  try {
    const json = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(parts[1].length / 4) * 4, '='));
    const payload = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
    const pinned = {};
    for (const scope of payload.scopes || []) {
      if (scope.fixed_params && typeof scope.fixed_params === 'object') {
        for (const [k, v] of Object.entries(scope.fixed_params)) {
          if (v !== null) pinned[k] = String(v);
        }
      }
    }
    return pinned;
  } catch {
    return {};
  }
}

// The endpoint `name` asked with those of `params` it takes (others are left
// out: version_adoption has no product_version); the answer's JSON
// ({meta, data, rows, ...}). ApiError when the token may not read it.
export async function pipe(catalog, name, params) {
  const spec = catalog.get(name);
  if (!spec) {
    throw new ApiError(`this token may not read the endpoint ${name} (it needs the scope PIPES:READ:${name})`, 403);
  }
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (spec.parameters.has(k)) query.set(k, v);
  }
  const q = query.toString();
  return getJson(`/v0/pipes/${encodeURIComponent(name)}.json${q ? '?' + q : ''}`);
}

// The quarantine (SPEC 1.2), a page of it.
export async function quarantine(limit, skip) {
  return getJson(`/v0/pipes/feature_events_quarantine.json?limit=${limit}&skip=${skip}`);
}
