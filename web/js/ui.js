// DOM helpers shared by the views: elements, panels with their loading,
// empty and error states, number cells and charts.
import * as fmt from './format.js';

// el('a', {href: '#', class: 'x'}, 'text', child...). Attributes: class,
// dataset (an object), on* (listeners), others as attributes.
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

let panelCount = 0;

// A panel: <section> with a heading and a body whose state is shown by
// setLoading / setEmpty / setError / the content put in it.
export function panel(title, { id, wide = false, note } = {}) {
  const hid = `panel-${++panelCount}`;
  const body = el('div', { class: 'panel-body', 'aria-live': 'polite' });
  const section = el('section', { class: `panel${wide ? ' wide' : ''}`, id, 'aria-labelledby': hid },
    el('header', {}, el('h2', { id: hid }, title), note ? el('p', { class: 'note' }, note) : null), body);
  section.body = body;
  setLoading(body);
  return section;
}

export function setLoading(body) {
  body.replaceChildren(el('p', { class: 'state loading', role: 'status' }, 'Loading…'));
  body.dataset.state = 'loading';
}

export function setEmpty(body, message) {
  body.replaceChildren(el('p', { class: 'state empty' }, message));
  body.dataset.state = 'empty';
}

// An error, in the API's own words.
export function setError(body, error) {
  body.replaceChildren(el('p', { class: 'state error', role: 'alert' }, error.message || String(error)));
  body.dataset.state = 'error';
}

export function setContent(body, ...children) {
  body.replaceChildren(...children);
  body.dataset.state = 'ready';
}

// A table cell holding a number: the exact value in data-value and title,
// the formatted one as text.
export function numberCell(value, kind = 'count') {
  const text = kind === 'percent' ? fmt.percent(value) : fmt.count(value);
  return el('td', { class: 'num', dataset: { value: String(value) }, title: kind === 'percent' ? String(value) : Number(value).toLocaleString('en-US') }, text);
}

// A stat: a big number with its label.
export function stat(label, value, { kind = 'count', key } = {}) {
  const text = kind === 'percent' ? fmt.percent(value) : fmt.count(value);
  return el('div', { class: 'stat', dataset: { key, value: String(value) } },
    el('span', { class: 'stat-value', title: String(value) }, text), el('span', { class: 'stat-label' }, label));
}

export const PALETTE = ['#1d4ed8', '#d97706', '#059669', '#dc2626', '#7c3aed', '#0891b2', '#db2777', '#65a30d',
  '#4b5563', '#ea580c'];

// A chart (Chart.js, built into the server) in a labelled canvas, and the
// same data as a table for screen readers. `series`: [{label, data}];
// `kind`: 'line', 'bar', 'stacked' (stacked area of shares).
export function chart(title, labels, series, { kind = 'line', percent = false, horizontal = false } = {}) {
  const canvas = el('canvas', { role: 'img', 'aria-label': `${title}: chart of ${series.map((s) => s.label).join(', ')} over ${labels.length} points; the table below holds the same numbers` });
  const box = el('div', { class: 'chart', dataset: { chart: title } }, canvas);
  const table = el('table', { class: 'sr-only' }, el('caption', {}, title),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, ''), series.map((s) => el('th', { scope: 'col' }, s.label)))),
    el('tbody', {}, labels.map((label, i) => el('tr', {}, el('th', { scope: 'row' }, label),
      series.map((s) => el('td', {}, s.data[i] === null ? '' : String(s.data[i])))))));
  const datasets = series.map((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    return {
      label: s.label, data: s.data, borderColor: color, backgroundColor: kind === 'stacked' ? color + '99' : color,
      fill: kind === 'stacked', pointRadius: labels.length > 60 ? 0 : 2, borderWidth: 2, tension: 0,
    };
  });
  const ticks = percent ? { callback: (v) => `${Math.round(v * 100)} %` } : { callback: (v) => fmt.count(v) };
  const config = {
    type: kind === 'bar' ? 'bar' : 'line',
    data: { labels, datasets },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false, indexAxis: horizontal ? 'y' : 'x',
      interaction: { mode: 'index', intersect: false },
      plugins: {
        legend: { display: series.length > 1, position: 'bottom' },
        tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${percent ? fmt.percent(c.parsed.y) : Number(horizontal ? c.parsed.x : c.parsed.y).toLocaleString('en-US')}` } },
      },
      scales: {
        x: { ticks: horizontal ? ticks : { maxRotation: 0, autoSkip: true, autoSkipPadding: 12 }, grid: { display: horizontal } },
        y: { beginAtZero: true, stacked: kind === 'stacked', ticks: horizontal ? {} : ticks, max: kind === 'stacked' && percent ? 1 : undefined },
      },
    },
  };
  // Drawn once the box is in the document (Chart.js measures its parent).
  box.draw = () => new window.Chart(canvas, config);
  return el('figure', { class: 'figure' }, box, table);
}

// Draws the charts of `root` that are not drawn yet (after it is attached).
export function drawCharts(root) {
  for (const box of root.querySelectorAll('.chart')) {
    if (box.draw && !box.drawn) {
      box.drawn = true;
      box.draw();
    }
  }
}

// A sortable column header: a button that says its order (aria-sort).
export function sortHeader(label, key, sort, dir, onSort, numeric = true) {
  const active = sort === key;
  const th = el('th', { scope: 'col', class: numeric ? 'num' : '', 'aria-sort': active ? (dir === 'asc' ? 'ascending' : 'descending') : 'none' },
    el('button', { type: 'button', class: 'sort', onclick: () => onSort(key) }, label, active ? (dir === 'asc' ? ' ▲' : ' ▼') : ''));
  return th;
}

// Pager buttons: « Previous · page N of M · Next »
export function pager(page, pages, onPage) {
  if (pages <= 1) return null;
  return el('nav', { class: 'pager', 'aria-label': 'Pages' },
    el('button', { type: 'button', disabled: page <= 0, onclick: () => onPage(page - 1) }, '‹ Previous'),
    el('span', {}, `page ${page + 1} of ${pages}`),
    el('button', { type: 'button', disabled: page + 1 >= pages, onclick: () => onPage(page + 1) }, 'Next ›'));
}
