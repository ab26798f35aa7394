// The view's state lives in the URL's hash, so every view is a link:
//   #/overview?start_date=2025-06-01&granularity=week&tz=Europe/Paris&sort=users
//   #/feature/<feature_id>?property=device
//   #/funnel?steps=search,filter,export&window=86400
//   #/user?user_id=u1
//   #/quarantine?page=2

// The filters every panel applies (SPEC 7).
export const FILTERS = ['start_date', 'end_date', 'product_version', 'event_type', 'granularity', 'tz'];

export const VIEWS = ['overview', 'feature', 'funnel', 'user', 'quarantine'];

// {view, arg, params (URLSearchParams)} of a hash.
export function parseHash(hash) {
  const text = hash.replace(/^#\/?/, '');
  const q = text.indexOf('?');
  const path = q < 0 ? text : text.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : text.slice(q + 1));
  const slash = path.indexOf('/');
  let view = slash < 0 ? path : path.slice(0, slash);
  let arg = slash < 0 ? '' : decodeURIComponent(path.slice(slash + 1));
  if (!VIEWS.includes(view)) {
    view = 'overview';
    arg = '';
  }
  return { view, arg, params };
}

// The hash of a view; empty parameters are left out.
export function hashOf(view, arg, params) {
  const kept = new URLSearchParams();
  for (const [k, v] of params) if (v !== '') kept.set(k, v);
  const query = kept.toString();
  return `#/${view}${arg ? '/' + encodeURIComponent(arg) : ''}${query ? '?' + query : ''}`;
}

// The filters of `params` that are set, as an object.
export function filtersOf(params) {
  const f = {};
  for (const name of FILTERS) {
    const v = params.get(name);
    if (v !== null && v !== '') f[name] = v;
  }
  return f;
}

// Navigates to the current view with some parameters changed (null removes).
export function update(changes, { replace = false } = {}) {
  const { view, arg, params } = parseHash(location.hash);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined || v === '') params.delete(k);
    else params.set(k, v);
  }
  go(view, arg, params, { replace });
}

export function go(view, arg, params, { replace = false } = {}) {
  const hash = hashOf(view, arg, params);
  if (hash === location.hash) return;
  if (replace) {
    history.replaceState(null, '', location.pathname + location.search + hash);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = hash;
  }
}

// A link to `view` keeping the current filters.
export function linkTo(view, arg = '', extra = {}) {
  const current = parseHash(location.hash).params;
  const params = new URLSearchParams();
  for (const name of FILTERS) if (current.get(name)) params.set(name, current.get(name));
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return hashOf(view, arg, params);
}
