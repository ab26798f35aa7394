// The quarantine (SPEC 1.2): the rejected rows with their reasons, oldest
// first, a page at a time (GET /v0/pipes/feature_events_quarantine.json).
import * as api from '../api.js';
import * as fmt from '../format.js';
import * as state from '../state.js';
import { el, numberCell, pager, panel, setContent, setEmpty, setError } from '../ui.js';

const PAGE_SIZE = 50;

export async function render(main, ctx) {
  const result = panel('Quarantined rows', { wide: true, id: 'quarantine', note: 'Lines the store refused, with the column at fault and why' });
  main.append(el('h1', { class: 'view-title' }, 'Quarantine'), result);
  const page = Math.max(0, Number(ctx.params.get('page')) || 0);
  const tz = ctx.filters.tz || 'UTC';
  try {
    const answer = await api.quarantine(PAGE_SIZE, page * PAGE_SIZE);
    const total = answer.rows_before_limit_at_least;
    if (total === 0) return setEmpty(result.body, 'The quarantine is empty: every row was stored.');
    if (answer.data.length === 0) return setEmpty(result.body, `No rows on this page (there are ${total}).`);
    const table = el('table', { class: 'data', id: 'quarantine-table' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, `Inserted (${tz})`), el('th', { scope: 'col' }, 'Source'), el('th', { scope: 'col', class: 'num' }, 'Line'),
        el('th', { scope: 'col' }, 'Columns'), el('th', { scope: 'col' }, 'Error'), el('th', { scope: 'col' }, 'Line text'))),
      el('tbody', {}, answer.data.map((r) => el('tr', {}, el('td', { class: 'date' }, fmt.dateTime(r.inserted_at, tz)), el('td', {}, r.source), numberCell(r.line),
        el('td', {}, r.columns), el('td', { class: 'reason' }, r.error), el('td', { class: 'raw', title: r.raw }, el('code', {}, r.raw.length > 120 ? r.raw.slice(0, 120) + '…' : r.raw))))));
    setContent(result.body, el('p', { class: 'note' }, `${fmt.count(total)} rows in quarantine.`), el('div', { class: 'scroll' }, table),
      pager(page, Math.ceil(total / PAGE_SIZE), (n) => state.update({ page: n || null })));
  } catch (e) {
    setError(result.body, e);
  }
}
