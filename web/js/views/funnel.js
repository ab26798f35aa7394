// The funnel builder: 2 to 8 features in order and a window (feature_funnel),
// drawn as a row of bars with each step's conversion.
import * as api from '../api.js';
import * as fmt from '../format.js';
import * as state from '../state.js';
import { chart, drawCharts, el, numberCell, panel, setContent, setEmpty, setError } from '../ui.js';

const MIN_STEPS = 2;
const MAX_STEPS = 8;
const UNITS = [[60, 'minutes'], [3600, 'hours'], [86400, 'days']];

export async function render(main, ctx) {
  const builder = panel('Funnel', { wide: true, id: 'funnel-builder', note: 'Users who used these features in this order, within the window from the first step' });
  const result = panel('Conversion', { wide: true, id: 'funnel' });
  main.append(el('h1', { class: 'view-title' }, 'Funnel'), builder, result);
  const steps = (ctx.params.get('steps') || '').split(',').filter((s) => s !== '');
  const seconds = Number(ctx.params.get('window')) || 86400;
  let features = [];
  try {
    const adoption = await api.pipe(ctx.catalog, 'feature_adoption', ctx.filters);
    features = adoption.data.map((r) => r.feature_id);
  } catch {
    features = [];  // the step fields still take any feature_id
  }
  drawBuilder(builder.body, features, steps.length ? steps : features.slice(0, 3), seconds);
  if (steps.length < MIN_STEPS) return setEmpty(result.body, `Choose ${MIN_STEPS} to ${MAX_STEPS} features and build the funnel.`);
  await drawFunnel(result.body, ctx, steps, seconds);
}

function drawBuilder(body, features, initial, seconds) {
  const list = el('ol', { class: 'steps' });
  const datalist = el('datalist', { id: 'funnel-features' }, features.map((f) => el('option', { value: f })));
  const addStep = (value) => {
    const input = el('input', { type: 'text', name: 'step', value, list: 'funnel-features', required: true, 'aria-label': 'Feature' });
    const li = el('li', {}, input,
      el('button', { type: 'button', class: 'quiet', 'aria-label': 'Remove this step', onclick: () => { if (list.children.length > MIN_STEPS) { li.remove(); sync(); } } }, '✕'));
    list.append(li);
    sync();
  };
  const add = el('button', { type: 'button', onclick: () => addStep('') }, '+ Step');
  const sync = () => { add.disabled = list.children.length >= MAX_STEPS; };
  const unit = [...UNITS].reverse().find(([size]) => seconds % size === 0) || [1, 'seconds'];
  const amount = el('input', { type: 'number', name: 'amount', min: 1, value: seconds / unit[0], required: true, 'aria-label': 'Window', size: 5 });
  const units = el('select', { name: 'unit', 'aria-label': 'Window unit' },
    [[1, 'seconds'], ...UNITS].map(([size, name]) => el('option', { value: size, selected: size === unit[0] }, name)));
  const form = el('form', { class: 'funnel-form', onsubmit: (e) => {
    e.preventDefault();
    const steps = [...list.querySelectorAll('input')].map((i) => i.value.trim()).filter((s) => s);
    state.update({ steps: steps.join(','), window: String(Number(amount.value) * Number(units.value)) });
  } }, list, datalist, el('div', { class: 'toolbar' }, add, el('label', {}, 'Within ', amount), units, el('button', { type: 'submit' }, 'Build funnel')));
  for (const s of initial.slice(0, MAX_STEPS)) addStep(s);
  while (list.children.length < MIN_STEPS) addStep('');
  setContent(body, form);
}

async function drawFunnel(body, ctx, steps, seconds) {
  try {
    const answer = await api.pipe(ctx.catalog, 'feature_funnel', { ...ctx.filters, steps: steps.join(','), window: seconds });
    const rows = answer.data;
    if (rows.length === 0 || rows[0].users === 0) return setEmpty(body, 'Nobody used the first step with these filters.');
    const first = rows[0].users;
    const table = el('table', { class: 'data', id: 'funnel-table' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Step'), el('th', { scope: 'col' }, 'Feature'), el('th', { scope: 'col', class: 'num' }, 'Users'),
        el('th', { scope: 'col', class: 'num' }, 'Of the first step'), el('th', { scope: 'col', class: 'num' }, 'Of the step before'))),
      el('tbody', {}, rows.map((r, i) => el('tr', { dataset: { step: String(r.step) } }, el('td', {}, String(r.step)),
        el('th', { scope: 'row' }, el('a', { href: state.linkTo('feature', r.feature_id) }, r.feature_id)), numberCell(r.users),
        numberCell(r.users / first, 'percent'), numberCell(i === 0 ? 1 : (rows[i - 1].users ? r.users / rows[i - 1].users : 0), 'percent')))));
    setContent(body, el('p', { class: 'note' }, `${fmt.count(rows[rows.length - 1].users)} of ${fmt.count(first)} users (${fmt.percent(rows[rows.length - 1].users / first)}) went through all ${rows.length} steps within ${fmt.duration(seconds)}.`),
      chart('Users reaching each step', rows.map((r) => `${r.step}. ${r.feature_id}`), [{ label: 'Users', data: rows.map((r) => r.users) }], { kind: 'bar' }),
      el('div', { class: 'scroll' }, table));
    drawCharts(body);
  } catch (e) {
    setError(body, e);
  }
}
