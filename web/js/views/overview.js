// The overview: active users (DAU, WAU, MAU: active_users with window_days
// 1, 7 and 28) and the feature table (feature_adoption joined with
// feature_usage_summary): sortable, searchable, paged.
import * as api from '../api.js';
import * as fmt from '../format.js';
import * as state from '../state.js';
import { chart, drawCharts, el, numberCell, pager, panel, setContent, setEmpty, setError, sortHeader, stat } from '../ui.js';

const WINDOWS = [[1, 'DAU'], [7, 'WAU'], [28, 'MAU']];
const PAGE_SIZE = 20;
let answers = null;  // {key: token and filters, at: ms, data: the promise of [adoption, summary]}

export async function render(main, ctx) {
  const active = panel('Active users', { wide: true, id: 'active-users', note: 'Distinct users per day, over windows of 1, 7 and 28 days ending that day' });
  const features = panel('Features', { wide: true, id: 'features' });
  main.append(el('h1', { class: 'view-title' }, 'Overview'), active, features);
  await Promise.allSettled([activeUsers(active.body, ctx), featureTable(features.body, ctx)]);
}

async function activeUsers(body, ctx) {
  const f = ctx.filters;
  // active_users takes dates, in the time zone's calendar.
  const params = { product_version: f.product_version, event_type: f.event_type, tz: f.tz,
    start_date: f.start_date, end_date: f.end_date };
  try {
    const answers = await Promise.all(WINDOWS.map(([days]) => api.pipe(ctx.catalog, 'active_users', { ...params, window_days: days })));
    if (answers[0].data.length === 0) return setEmpty(body, 'No events match the filters.');
    const labels = answers[0].data.map((r) => r.day);
    const series = answers.map((a, i) => ({ label: WINDOWS[i][1], data: a.data.map((r) => r.active_users) }));
    const last = answers.map((a) => a.data[a.data.length - 1].active_users);
    setContent(body,
      el('div', { class: 'stats' }, WINDOWS.map(([, name], i) => stat(`${name} on ${labels[labels.length - 1]}`, last[i], { key: name }))),
      chart('Active users per day', labels, series));
    drawCharts(body);
  } catch (e) {
    setError(body, e);
  }
}

// Rows: one per feature (feature_adoption: users, adoption, events; plus the
// versions it was seen on), or with group=version one per feature and version
// (feature_usage_summary: events, users, sessions; share of the active users).
async function featureTable(body, ctx) {
  const f = ctx.filters;
  try {
    // Searching, sorting and paging change the address but not the data: the
    // last answers are kept for the same token and filters, for a minute.
    const key = JSON.stringify([api.token(), f]);
    if (!answers || answers.key !== key || Date.now() - answers.at > 60000) {
      answers = { key, at: Date.now(), data: Promise.all([api.pipe(ctx.catalog, 'feature_adoption', f), api.pipe(ctx.catalog, 'feature_usage_summary', f)]) };
      const mine = answers;
      mine.data.catch(() => { if (answers === mine) answers = null; });
    }
    const [adoption, summary] = await answers.data;
    ctx.offerVersions(summary.data.map((r) => r.product_version));
    if (adoption.data.length === 0) return setEmpty(body, 'No events match the filters.');
    const activeUsers = adoption.data[0].active_users;
    const byVersion = ctx.params.get('group') === 'version';
    let rows;
    if (byVersion) {
      rows = summary.data.map((r) => ({
        feature_id: r.feature_id, product_version: r.product_version, events: r.total_events,
        users: r.unique_users, sessions: r.unique_sessions, adoption: r.unique_users / activeUsers, last_seen: r.last_seen,
      }));
    } else {
      const extra = new Map();
      for (const r of summary.data) {
        const x = extra.get(r.feature_id) || { versions: 0, last_seen: '' };
        x.versions += 1;
        if (r.last_seen > x.last_seen) x.last_seen = r.last_seen;
        extra.set(r.feature_id, x);
      }
      rows = adoption.data.map((r) => ({
        feature_id: r.feature_id, events: r.events, users: r.users, adoption: r.adoption_rate,
        versions: extra.get(r.feature_id)?.versions ?? 0, last_seen: extra.get(r.feature_id)?.last_seen ?? '',
      }));
    }
    draw(body, ctx, rows, activeUsers, byVersion);
  } catch (e) {
    setError(body, e);
  }
}

function draw(body, ctx, allRows, activeUsers, byVersion) {
  const p = ctx.params;
  const query = (p.get('q') || '').toLowerCase();
  const sort = p.get('sort') || 'users';
  const dir = p.get('dir') || (sort === 'feature_id' || sort === 'product_version' ? 'asc' : 'desc');
  const columns = byVersion
    ? [['feature_id', 'Feature', false], ['product_version', 'Version', false], ['events', 'Events', true], ['users', 'Users', true],
      ['sessions', 'Sessions', true], ['adoption', 'Share of active users', true], ['last_seen', 'Last seen', false]]
    : [['feature_id', 'Feature', false], ['events', 'Events', true], ['users', 'Users', true], ['adoption', 'Adoption', true],
      ['versions', 'Versions', true], ['last_seen', 'Last seen', false]];
  let rows = query ? allRows.filter((r) => r.feature_id.toLowerCase().includes(query)) : allRows.slice();
  const sign = dir === 'asc' ? 1 : -1;
  rows.sort((a, b) => (a[sort] < b[sort] ? -sign : a[sort] > b[sort] ? sign : a.feature_id < b.feature_id ? -1 : a.feature_id > b.feature_id ? 1 : 0));
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  const page = Math.min(Math.max(0, Number(p.get('page')) || 0), pages - 1);
  const onSort = (key) => state.update({ sort: key, dir: key === sort ? (dir === 'asc' ? 'desc' : 'asc') : null, page: null });
  const search = el('input', { type: 'search', name: 'q', value: p.get('q') || '', placeholder: 'Search features', 'aria-label': 'Search features' });
  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => state.update({ q: search.value, page: null }, { replace: true }), 250);
  });
  const group = el('select', { name: 'group', 'aria-label': 'Rows', onchange: (e) => state.update({ group: e.target.value === 'feature' ? null : e.target.value, sort: null, dir: null, page: null }) },
    el('option', { value: 'feature', selected: !byVersion }, 'one row per feature'),
    el('option', { value: 'version', selected: byVersion }, 'one row per feature and version'));
  const tz = ctx.filters.tz || 'UTC';
  const shown = rows.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  const table = el('table', { class: 'data', id: 'feature-table', dataset: { rows: String(rows.length) } },
    el('caption', { class: 'sr-only' }, `Features, sorted by ${sort} ${dir === 'asc' ? 'ascending' : 'descending'}`),
    el('thead', {}, el('tr', {}, columns.map(([key, label, numeric]) => sortHeader(label, key, sort, dir, onSort, numeric)))),
    el('tbody', {}, shown.map((r) => el('tr', { dataset: { feature: r.feature_id, version: r.product_version } }, columns.map(([key]) => {
      if (key === 'feature_id') return el('th', { scope: 'row' }, el('a', { href: state.linkTo('feature', r.feature_id) }, r.feature_id));
      if (key === 'product_version') return el('td', {}, r.product_version);
      if (key === 'last_seen') return el('td', { class: 'date' }, fmt.dateTime(r.last_seen, tz));
      const cell = numberCell(r[key], key === 'adoption' ? 'percent' : 'count');
      cell.dataset.key = key;
      return cell;
    })))));
  const toolbar = el('div', { class: 'toolbar' }, search, group,
    el('span', { class: 'note' }, `${fmt.count(rows.length)} of ${fmt.count(allRows.length)} rows · ${fmt.count(activeUsers)} active users`));
  setContent(body, toolbar, rows.length ? el('div', { class: 'scroll' }, table) : el('p', { class: 'state empty' }, 'No feature matches the search.'),
    pager(page, pages, (n) => state.update({ page: n || null })));
  // Keep the search box focused while typing re-renders the view.
  if (document.activeElement?.name === 'q' || p.has('q')) {
    if (document.activeElement === document.body) {
      search.focus();
      search.setSelectionRange(search.value.length, search.value.length);
    }
  }
}
