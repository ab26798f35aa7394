// The user lookup: every feature a user used, on which version, how often,
// first and last (user_feature_usage), dates in the chosen time zone.
import * as api from '../api.js';
import * as fmt from '../format.js';
import * as state from '../state.js';
import { el, numberCell, panel, setContent, setEmpty, setError } from '../ui.js';

export async function render(main, ctx) {
  const userId = ctx.params.get('user_id') || '';
  const input = el('input', { type: 'search', name: 'user_id', value: userId, required: true, 'aria-label': 'User id', placeholder: 'user_id' });
  const form = el('form', { class: 'toolbar', role: 'search', onsubmit: (e) => { e.preventDefault(); state.update({ user_id: input.value.trim() }); } },
    el('label', {}, 'User ', input), el('button', { type: 'submit' }, 'Look up'));
  const result = panel(userId ? `Features used by ${userId}` : 'Features used', { wide: true, id: 'user-usage' });
  main.append(el('h1', { class: 'view-title' }, 'User lookup'), form, result);
  if (!userId) {
    setEmpty(result.body, 'Enter a user_id.');
    input.focus();
    return;
  }
  const tz = ctx.filters.tz || 'UTC';
  try {
    const answer = await api.pipe(ctx.catalog, 'user_feature_usage', { user_id: userId, product_version: ctx.filters.product_version });
    if (answer.data.length === 0) return setEmpty(result.body, `No events of user ${userId}${ctx.filters.product_version ? ` on version ${ctx.filters.product_version}` : ''}.`);
    const total = answer.data.reduce((s, r) => s + r.usage_count, 0);
    const table = el('table', { class: 'data', id: 'user-table' },
      el('thead', {}, el('tr', {}, ['Feature', 'Version'].map((h) => el('th', { scope: 'col' }, h)), el('th', { scope: 'col', class: 'num' }, 'Uses'),
        el('th', { scope: 'col' }, `First use (${tz})`), el('th', { scope: 'col' }, `Last use (${tz})`))),
      el('tbody', {}, answer.data.map((r) => el('tr', { dataset: { feature: r.feature_id, version: r.product_version } },
        el('th', { scope: 'row' }, el('a', { href: state.linkTo('feature', r.feature_id) }, r.feature_id)), el('td', {}, r.product_version),
        numberCell(r.usage_count), el('td', { class: 'date' }, fmt.dateTime(r.first_usage, tz)), el('td', { class: 'date' }, fmt.dateTime(r.last_usage, tz))))));
    setContent(result.body, el('p', { class: 'note' }, `${fmt.count(total)} events on ${answer.data.length} feature and version pairs.`), el('div', { class: 'scroll' }, table));
  } catch (e) {
    setError(result.body, e);
  }
}
