// The dashboard of `usagedb serve` (SPEC 7; docs/DASHBOARD.md): reads the
// token (asked once, kept in this browser), the catalog of endpoints it may
// read, and draws the view the URL's hash names. <html data-state> is
// "loading" while a view's requests are out and "ready" once every panel
// has its data, its empty state or its error.
import * as api from './api.js';
import * as state from './state.js';
import { el } from './ui.js';
import * as overview from './views/overview.js';
import * as feature from './views/feature.js';
import * as funnel from './views/funnel.js';
import * as user from './views/user.js';
import * as quarantine from './views/quarantine.js';

const views = { overview, feature, funnel, user, quarantine };

const main = document.getElementById('main');
const filtersForm = document.getElementById('filters');
const dialog = document.getElementById('token-dialog');
let catalog = null;
let renderCount = 0;

function setPageState(s) {
  document.documentElement.dataset.state = s;
}

function askToken(message) {
  const error = document.getElementById('token-error');
  error.hidden = !message;
  error.textContent = message || '';
  setPageState(message ? 'error' : 'token');
  if (!dialog.open) dialog.showModal();
}

dialog.addEventListener('cancel', (e) => {
  if (!api.token()) e.preventDefault();  // nothing to show without a token
});

document.getElementById('token-form').addEventListener('submit', () => {
  api.setToken(new FormData(document.getElementById('token-form')).get('token').trim());
  catalog = null;
  start();
});

document.getElementById('change-token').addEventListener('click', () => askToken(''));

// The filter form shows the URL's filters; applying it writes them back.
function showFilters(params) {
  for (const name of state.FILTERS) {
    const input = filtersForm.elements[name];
    input.value = params.get(name) || (name === 'granularity' ? 'day' : '');
  }
  const pinned = api.pinnedParams();
  const names = Object.keys(pinned);
  const note = document.getElementById('pinned');
  note.hidden = names.length === 0;
  note.textContent = names.length ? `Pinned by the token: ${names.map((k) => `${k} = ${pinned[k]}`).join(', ')}` : '';
  for (const name of state.FILTERS) filtersForm.elements[name].disabled = name in pinned;
}

filtersForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const changes = {};
  for (const name of state.FILTERS) {
    const input = filtersForm.elements[name];
    if (input.disabled) continue;
    changes[name] = name === 'granularity' && input.value === 'day' ? null : input.value.trim();
  }
  changes.page = null;  // a new filter starts at the first page
  state.update(changes);
});

filtersForm.addEventListener('reset', (e) => {
  e.preventDefault();
  const changes = { page: null };
  for (const name of state.FILTERS) changes[name] = null;
  state.update(changes);
});

function fillZones() {
  const list = document.getElementById('zones');
  if (list.children.length || !Intl.supportedValuesOf) return;
  list.append(...Intl.supportedValuesOf('timeZone').map((z) => el('option', { value: z })));
}

// Versions seen by a view (the feature table's rows) offered in the filter.
export function offerVersions(versions) {
  const list = document.getElementById('versions');
  list.replaceChildren(...[...new Set(versions)].sort().map((v) => el('option', { value: v })));
}

async function render() {
  const mine = ++renderCount;
  const { view, arg, params } = state.parseHash(location.hash);
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  showFilters(params);
  setPageState('loading');
  const ctx = { catalog, arg, params, filters: state.filtersOf(params), offerVersions };
  main.replaceChildren();
  try {
    await views[view].render(main, ctx);
  } catch (e) {
    main.replaceChildren(el('p', { class: 'state error', role: 'alert' }, e.message || String(e)));
  }
  if (mine === renderCount) setPageState('ready');
}

async function start() {
  if (!api.token()) return askToken('');
  try {
    catalog = await api.loadCatalog();
  } catch (e) {
    return askToken(e.message);
  }
  if (dialog.open) dialog.close();
  filtersForm.hidden = false;
  fillZones();
  await render();
}

api.takeTokenFromUrl();
window.addEventListener('hashchange', () => {
  if (catalog) render();
});
start();
