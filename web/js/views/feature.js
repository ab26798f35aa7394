// A feature's page: its timeline (feature_usage_timeline), version rollout
// (version_adoption), retention cohorts as a heat map (feature_retention) and
// a breakdown by a metadata key (property_breakdown).
import * as api from '../api.js';
import * as fmt from '../format.js';
import * as state from '../state.js';
import { chart, drawCharts, el, numberCell, panel, setContent, setEmpty, setError } from '../ui.js';

// The metadata key broken down when the URL names none (the tutorial's and
// the generator's events carry device, os and browser).
const DEFAULT_PROPERTY = 'device';

export async function render(main, ctx) {
  const id = ctx.arg;
  if (!id) {
    main.append(el('h1', { class: 'view-title' }, 'Feature'), el('p', { class: 'state empty' }, 'Pick a feature in the overview’s table.'));
    return;
  }
  const g = ctx.filters.granularity || 'day';
  const timeline = panel(`Usage per ${g}`, { wide: true, id: 'timeline' });
  const rollout = panel(`Version rollout per ${g}`, { id: 'rollout', note: 'Share of the period’s active users of this feature on each version' });
  const breakdown = panel('Breakdown by metadata', { id: 'breakdown' });
  const retention = panel('Retention cohorts', { wide: true, id: 'retention' });
  main.append(el('h1', { class: 'view-title' }, el('a', { href: state.linkTo('overview') }, 'Overview'), ' › ', el('span', { id: 'feature-name' }, id)),
    timeline, rollout, breakdown, retention);
  const f = { ...ctx.filters, feature_id: id };
  await Promise.allSettled([
    drawTimeline(timeline.body, ctx, f, g),
    drawRollout(rollout.body, ctx, f, g),
    drawBreakdown(breakdown.body, ctx, f),
    drawRetention(retention.body, ctx, f, g),
  ]);
}

async function drawTimeline(body, ctx, f, g) {
  try {
    const answer = await api.pipe(ctx.catalog, 'feature_usage_timeline', { ...f, granularity: g });
    if (answer.data.length === 0) return setEmpty(body, 'No events of this feature match the filters.');
    const labels = answer.data.map((r) => fmt.period(r.period, g));
    setContent(body, chart(`${f.feature_id}: events and users per ${g}`, labels, [
      { label: 'Events', data: answer.data.map((r) => r.events) },
      { label: 'Users', data: answer.data.map((r) => r.unique_users) },
    ]));
    drawCharts(body);
  } catch (e) {
    setError(body, e);
  }
}

async function drawRollout(body, ctx, f, g) {
  try {
    const answer = await api.pipe(ctx.catalog, 'version_adoption', { ...f, granularity: g });
    if (answer.data.length === 0) return setEmpty(body, 'No events of this feature match the filters.');
    const periods = [...new Set(answer.data.map((r) => r.period))];
    const index = new Map(periods.map((p, i) => [p, i]));
    const versions = [...new Set(answer.data.map((r) => r.product_version))].sort();
    const shares = new Map(versions.map((v) => [v, periods.map(() => 0)]));
    for (const r of answer.data) shares.get(r.product_version)[index.get(r.period)] = r.share;
    const series = versions.map((v) => ({ label: v, data: shares.get(v) }));
    setContent(body, chart(`${f.feature_id}: share of users per version`, periods.map((p) => fmt.period(p, g)), series, { kind: 'line', percent: true }));
    drawCharts(body);
  } catch (e) {
    setError(body, e);
  }
}

async function drawBreakdown(body, ctx, f) {
  const property = ctx.params.get('property') || DEFAULT_PROPERTY;
  const input = el('input', { type: 'text', name: 'property', value: property, required: true, 'aria-label': 'Metadata key', size: 12 });
  const form = el('form', { class: 'toolbar', onsubmit: (e) => { e.preventDefault(); state.update({ property: input.value.trim() === DEFAULT_PROPERTY ? null : input.value.trim() }); } },
    el('label', {}, 'Metadata key ', input), el('button', { type: 'submit' }, 'Break down'));
  try {
    const answer = await api.pipe(ctx.catalog, 'property_breakdown', { ...f, property });
    if (answer.data.length === 0) return setContent(body, form, el('p', { class: 'state empty' }, 'No events of this feature match the filters.'));
    const rows = answer.data.slice(0, 12);
    const label = (v) => (v === '' ? '(none)' : v);
    const table = el('table', { class: 'data', id: 'breakdown-table' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, property), el('th', { scope: 'col', class: 'num' }, 'Events'), el('th', { scope: 'col', class: 'num' }, 'Users'))),
      el('tbody', {}, answer.data.map((r) => el('tr', { dataset: { value: r.value } }, el('th', { scope: 'row' }, label(r.value)), numberCell(r.events), numberCell(r.users)))));
    setContent(body, form, chart(`${f.feature_id}: events by ${property}`, rows.map((r) => label(r.value)), [{ label: 'Events', data: rows.map((r) => r.events) }], { kind: 'bar', horizontal: true }),
      el('div', { class: 'scroll' }, table));
    drawCharts(body);
  } catch (e) {
    setContent(body, form, el('p', { class: 'state error', role: 'alert' }, e.message));
    body.dataset.state = 'error';
  }
}

async function drawRetention(body, ctx, f, g) {
  // Cohorts are days, weeks or months: hour filters show day cohorts.
  const unit = g === 'hour' ? 'day' : g;
  try {
    const answer = await api.pipe(ctx.catalog, 'feature_retention', { ...f, granularity: unit });
    if (answer.data.length === 0) return setEmpty(body, 'No events of this feature match the filters.');
    const cohorts = [];
    const byCohort = new Map();
    let maxOffset = 0;
    for (const r of answer.data) {
      if (!byCohort.has(r.cohort)) {
        byCohort.set(r.cohort, { size: r.cohort_users, users: new Map() });
        cohorts.push(r.cohort);
      }
      byCohort.get(r.cohort).users.set(r.period_offset, r.users);
      maxOffset = Math.max(maxOffset, r.period_offset);
    }
    const offsets = Array.from({ length: maxOffset + 1 }, (_, i) => i);
    const table = el('table', { class: 'heatmap', id: 'retention-table', 'aria-label': `Retention of ${f.feature_id}: share of each ${unit}'s new users active again k ${unit}s later` },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, `Cohort (${unit})`), el('th', { scope: 'col', class: 'num' }, 'Users'),
        offsets.map((k) => el('th', { scope: 'col', class: 'num' }, `+${k}`)))),
      el('tbody', {}, cohorts.map((c) => {
        const row = byCohort.get(c);
        return el('tr', { dataset: { cohort: c } }, el('th', { scope: 'row' }, fmt.period(c, unit)), numberCell(row.size),
          offsets.map((k) => {
            const users = row.users.get(k);
            if (users === undefined) return el('td', { class: 'num blank' }, '');
            const rate = users / row.size;
            const td = el('td', { class: 'num', dataset: { offset: String(k), users: String(users) }, title: `${users.toLocaleString('en-US')} of ${row.size.toLocaleString('en-US')} users` }, fmt.percent(rate));
            td.style.setProperty('--heat', rate.toFixed(3));
            if (rate > 0.55) td.classList.add('dark');
            return td;
          }));
      })));
    setContent(body, unit !== g ? el('p', { class: 'note' }, `Cohorts by day (hour cohorts are not offered).`) : '', el('div', { class: 'scroll' }, table));
  } catch (e) {
    setError(body, e);
  }
}
