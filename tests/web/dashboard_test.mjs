// The dashboard (SPEC 7) in a real browser: starts `usagedb serve` on a store
// of known events, loads each view in headless Chromium over the DevTools
// protocol (tests/web/chromium.mjs), and checks that the numbers the page
// shows and the data its charts drew equal the API's answers for the same
// parameters, that no request left the server, and that no JavaScript error,
// CSP violation or failed load was logged.
//
//   node tests/web/dashboard_test.mjs PATH/TO/usagedb                 # the CI test (ctest dashboard_browser)
//   node tests/web/dashboard_test.mjs PATH/TO/usagedb --screenshots docs/images
//        the same checks on 300,000 generated events, then PNGs of the overview and a
//        feature's page at 1400x900
//   node tests/web/dashboard_test.mjs PATH/TO/usagedb --bench STORE
//        the overview on an existing store: each of its requests' time on the server
//        (from the access log) and the time until the page was ready (bench/RESULTS.md)
//
// Exit 77 (skipped, saying why) only when Chromium is not installed or cannot start.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Browser, findChromium } from './chromium.mjs';

const usagedb = process.argv[2];
const flag = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const screenshotDir = flag('--screenshots');
const benchStore = flag('--bench');
if (!usagedb) {
  console.error('usage: dashboard_test.mjs PATH/TO/usagedb [--screenshots DIR | --bench STORE]');
  process.exit(2);
}
const chromiumPath = findChromium();
if (!chromiumPath) {
  console.log('SKIPPED: Chromium is not installed (tools/install_deps.sh installs Debian\'s chromium)');
  process.exit(77);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'usagedb-dashboard-'));
const ADMIN = 'dash-admin-' + crypto.randomBytes(8).toString('hex');
const READER = 'dash-reader-' + crypto.randomBytes(8).toString('hex');
const ENDPOINTS = ['user_feature_usage', 'feature_usage_summary', 'feature_usage_timeline', 'feature_adoption', 'active_users',
  'feature_retention', 'feature_funnel', 'property_breakdown', 'version_adoption'];

// --- the store -------------------------------------------------------------

// Known events: 14 users, 4 features, 2 versions, 3 weeks of March 2025, with
// device metadata, from a fixed LCG; and two lines the store must quarantine.
function knownEvents() {
  let seed = 12345;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const features = ['search', 'filter', 'export', 'share'];
  const devices = ['desktop', 'mobile', 'tablet'];
  const lines = [];
  for (let i = 0; i < 900; ++i) {
    const user = `u${1 + rand(14)}`;
    const day = 1 + rand(21);
    const second = rand(86400);
    const ts = new Date(Date.UTC(2025, 2, day) + second * 1000).toISOString().slice(0, 19).replace('T', ' ');
    const event = {
      event_id: `e${i}`, user_id: user, feature_id: features[Math.min(rand(5), 3)],
      product_version: day < 10 || rand(3) === 0 ? '1.0' : '1.1', event_type: rand(4) === 0 ? 'click' : 'view',
      timestamp: ts, session_id: `${user}-s${Math.floor(day / 3)}`,
      metadata: rand(10) === 0 ? '' : JSON.stringify({ device: devices[rand(3)], plan: rand(2) ? 'pro' : 'free' }),
    };
    lines.push(JSON.stringify(event));
  }
  lines.push('{"user_id":"u1","feature_id":"search","product_version":"1.0","event_type":"view","timestamp":"2025-13-01 00:00:00"}');
  lines.push('{"user_id":"u2","feature_id":"search","event_type":"view","timestamp":"2025-03-02 10:00:00"}');
  return lines.join('\n') + '\n';
}

function run(args, input) {
  const r = spawnSync(usagedb, args, { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`usagedb ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

let store = benchStore;
if (!store) {
  store = path.join(tmp, 'store');
  const events = path.join(tmp, 'events.ndjson');
  if (screenshotDir) {
    fs.writeFileSync(events, run(['generate', '--events', '300000', '--seed', '19', '--users', '4000', '--features', '14', '--versions', '4',
      '--months', '3', '--start', '2025-02-01']) + knownEvents());
  } else {
    fs.writeFileSync(events, knownEvents());
  }
  run(['ingest', '--store', store, events]);
}

// --- the server -------------------------------------------------------------

const tokensFile = path.join(tmp, 'tokens.json');
fs.writeFileSync(tokensFile, JSON.stringify({ tokens: [
  { name: 'admin', token: ADMIN, scopes: ['ADMIN'] },
  { name: 'reader', token: READER, scopes: [...ENDPOINTS.map((e) => `PIPES:READ:${e}`), 'DATASOURCES:READ:feature_events'] },
] }));
const accessLog = path.join(tmp, 'access.log');
const server = spawn(usagedb, ['serve', '--store', store, '--tokens', tokensFile, '--port', '0', '--access-log', accessLog],
  { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  let out = '';
  const timer = setTimeout(() => reject(new Error('usagedb serve did not start: ' + out)), 120000);
  server.stdout.on('data', (chunk) => {
    out += chunk;
    const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    if (m) { clearTimeout(timer); resolve(Number(m[1])); }
  });
  server.on('exit', (code) => reject(new Error(`usagedb serve exited with ${code}: ${out}`)));
});
const origin = `http://127.0.0.1:${port}`;
// Whatever happens, the server does not outlive the test.
process.on('exit', () => server.kill('SIGKILL'));

async function apiGet(name, params, token = READER) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined)).toString();
  const res = await fetch(`${origin}/v0/pipes/${name}.json${q ? '?' + q : ''}`, { headers: { Authorization: `Bearer ${token}` } });
  const body = await res.json();
  return res.ok ? body : { error: body.error, status: res.status };
}

// An HS256 JWT signed with the ADMIN token (docs/HTTP.md).
function jwt(payload) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${head}.${crypto.createHmac('sha256', ADMIN).update(head).digest('base64url')}`;
}

// --- the browser ------------------------------------------------------------

let browser;
try {
  browser = await Browser.launch(chromiumPath);
} catch (e) {
  server.kill('SIGTERM');
  console.log(`SKIPPED: Chromium (${chromiumPath}) cannot run here: ${e.message.split('\n')[0]}`);
  process.exit(77);
}
console.log(`${browser.version}, usagedb serve on ${origin}`);
const page = await browser.newPage();
await page.send('Runtime.enable');
await page.send('Log.enable');
await page.send('Network.enable');
await page.send('Page.enable');
await page.send('Emulation.setDeviceMetricsOverride', { width: 1400, height: 900, deviceScaleFactor: 1, mobile: false });

const failures = [];
function check(what, fn) {
  try {
    fn();
    console.log(`ok   ${what}`);
  } catch (e) {
    failures.push(what);
    console.log(`FAIL ${what}\n${e.message}`);
  }
}

// Opens `hash` (with ?token= the first time) and waits until every panel is
// done; the milliseconds it took.
async function open(hash, { token } = {}) {
  await page.evaluate("document.documentElement.dataset.state = 'navigating'").catch(() => {});
  const t0 = Date.now();
  const url = `${origin}/${token ? '?token=' + encodeURIComponent(token) : ''}${hash}`;
  // The same address again is a reload (navigating to it would change nothing).
  const current = await page.evaluate('location.href').catch(() => '');
  if (current === url) await page.send('Page.reload', { ignoreCache: false });
  else await page.send('Page.navigate', { url });
  try {
    await page.waitFor("['ready', 'error'].includes(document.documentElement?.dataset.state)", 60000);
  } catch (e) {
    const states = await page.evaluate("document.documentElement?.dataset.state + ': ' + [...document.querySelectorAll('section.panel')].map((p) => `${p.id} ${p.querySelector('.panel-body').dataset.state}`).join(', ')").catch((x) => x.message);
    throw new Error(`${hash}: ${e.message} (${states})`);
  }
  return Date.now() - t0;
}

// What a view drew: each chart's labels and data, each data table's cells.
const readPage = `(() => {
  const charts = {};
  for (const box of document.querySelectorAll('.chart')) {
    const c = Chart.getChart(box.querySelector('canvas'));
    const canvas = box.querySelector('canvas');
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
    charts[box.dataset.chart] = { labels: c.data.labels, data: c.data.datasets.map((d) => ({ label: d.label, data: d.data })), painted,
      aria: canvas.getAttribute('aria-label') };
  }
  const cells = (selector) => [...document.querySelectorAll(selector)].map((e) => Number(e.dataset.value));
  return { charts, cells: (s) => cells(s),
    stats: Object.fromEntries([...document.querySelectorAll('.stat')].map((s) => [s.dataset.key, Number(s.dataset.value)])),
    errors: [...document.querySelectorAll('.state.error')].map((e) => e.textContent),
    state: document.documentElement.dataset.state };
})()`;
const read = () => page.evaluate(readPage);
const column = (selector) => page.evaluate(`[...document.querySelectorAll(${JSON.stringify(selector)})].map((e) => Number(e.dataset.value))`);
const texts = (selector) => page.evaluate(`[...document.querySelectorAll(${JSON.stringify(selector)})].map((e) => e.textContent)`);

function chartOf(view, title) {
  const c = view.charts[title];
  assert.ok(c, `no chart '${title}' (charts: ${Object.keys(view.charts).join(', ')})`);
  assert.ok(c.painted > 500, `chart '${title}' painted ${c.painted} pixels`);
  assert.ok(c.aria && c.aria.startsWith(title), `chart '${title}' has no aria-label`);
  return c;
}

if (benchStore) {
  await bench();
} else {
  await checks();
}

async function checks() {
  // The overview, first with the token in the URL (then kept in localStorage).
  await open('#/overview', { token: READER });
  let view = await read();
  const windows = await Promise.all([1, 7, 28].map((w) => apiGet('active_users', { window_days: w })));
  check('overview: active users chart = active_users with window_days 1, 7, 28', () => {
    assert.deepEqual(view.errors, []);
    const c = chartOf(view, 'Active users per day');
    assert.deepEqual(c.labels, windows[0].data.map((r) => r.day));
    assert.deepEqual(c.data.map((d) => d.label), ['DAU', 'WAU', 'MAU']);
    windows.forEach((w, i) => assert.deepEqual(c.data[i].data, w.data.map((r) => r.active_users)));
    assert.deepEqual(view.stats, { DAU: windows[0].data.at(-1).active_users, WAU: windows[1].data.at(-1).active_users,
      MAU: windows[2].data.at(-1).active_users });
  });
  // The same in a time zone and a date range: active_users takes them as local days (SPEC
  // 2.6) when its catalog entry lists tz; the page sends tz only then, as this does.
  const catalog = await (await fetch(`${origin}/v0/pipes`, { headers: { Authorization: `Bearer ${READER}` } })).json();
  const takesTz = catalog.pipes.find((p) => p.name === 'active_users').parameters.some((p) => p.name === 'tz');
  await open('#/overview?tz=Asia%2FKolkata&start_date=2025-03-03&end_date=2025-03-17');
  const zoned = await read();
  const zonedWindows = await Promise.all([1, 7, 28].map((w) => apiGet('active_users',
    { window_days: w, start_date: '2025-03-03', end_date: '2025-03-17', ...(takesTz ? { tz: 'Asia/Kolkata' } : {}) })));
  check(`overview in Asia/Kolkata, 2025-03-03 to 2025-03-17: the chart = active_users${takesTz ? ' with tz' : ' (which takes no tz yet)'}`, () => {
    assert.deepEqual(zoned.errors, []);
    const c = chartOf(zoned, 'Active users per day');
    assert.equal(c.labels.length, 14);
    assert.deepEqual(c.labels, zonedWindows[0].data.map((r) => r.day));
    zonedWindows.forEach((w, i) => assert.deepEqual(c.data[i].data, w.data.map((r) => r.active_users)));
  });
  await open('#/overview');
  const adoption = await apiGet('feature_adoption', {});
  const summary = await apiGet('feature_usage_summary', {});
  const shown = await page.evaluate(`[...document.querySelectorAll('#feature-table tbody tr')].map((tr) => ({ feature: tr.dataset.feature,
    ...Object.fromEntries([...tr.querySelectorAll('td[data-key]')].map((td) => [td.dataset.key, Number(td.dataset.value)])),
    text: [...tr.querySelectorAll('td[data-key]')].map((td) => td.textContent) }))`);
  check('overview: feature table rows = feature_adoption + feature_usage_summary', () => {
    const top = adoption.data.slice(0, 20);
    assert.equal(shown.length, top.length);
    top.forEach((r, i) => {
      const versions = summary.data.filter((s) => s.feature_id === r.feature_id).length;
      assert.deepEqual({ ...shown[i], text: undefined }, { feature: r.feature_id, events: r.events, users: r.users, adoption: r.adoption_rate,
        versions, text: undefined });
      assert.match(shown[i].text[2], /^\d+\.\d %$/);
    });
  });

  // Sorting, searching and the per-version rows, from the URL.
  await open('#/overview?group=version&sort=sessions&dir=desc&q=e');
  const byVersion = await page.evaluate(`[...document.querySelectorAll('#feature-table tbody tr')].map((tr) => [tr.dataset.feature, tr.dataset.version,
    Number(tr.querySelector('td[data-key=sessions]').dataset.value), Number(tr.querySelector('td[data-key=users]').dataset.value)])`);
  check('overview: per-version rows = feature_usage_summary, filtered on "e", by sessions', () => {
    const expected = summary.data.filter((r) => r.feature_id.includes('e'))
      .map((r) => [r.feature_id, r.product_version, r.unique_sessions, r.unique_users]);
    assert.equal(byVersion.length, Math.min(expected.length, 20));
    byVersion.forEach((r, i) => i === 0 || assert.ok(byVersion[i - 1][2] >= r[2], 'sorted by sessions, descending'));
    const key = (r) => JSON.stringify(r);
    const all = new Set(expected.map(key));
    for (const r of byVersion) assert.ok(all.has(key(r)), `row ${key(r)} is not feature_usage_summary's`);
  });

  // A feature's page, in a week granularity and a time zone.
  const fp = { feature_id: 'search', granularity: 'week', tz: 'America/New_York' };
  const featureMs = await open(`#/feature/search?granularity=week&tz=America%2FNew_York&property=device`);
  view = await read();
  const [timeline, rollout, retention, breakdown] = await Promise.all([
    apiGet('feature_usage_timeline', fp), apiGet('version_adoption', fp), apiGet('feature_retention', fp),
    apiGet('property_breakdown', { feature_id: 'search', property: 'device' })]);
  check(`feature page: timeline chart = feature_usage_timeline (week, America/New_York) (${featureMs} ms)`, () => {
    assert.deepEqual(view.errors, []);
    const c = chartOf(view, 'search: events and users per week');
    assert.deepEqual(c.labels, timeline.data.map((r) => r.period.slice(0, 10)));
    assert.deepEqual(c.data[0].data, timeline.data.map((r) => r.events));
    assert.deepEqual(c.data[1].data, timeline.data.map((r) => r.unique_users));
  });
  check('feature page: version rollout chart = version_adoption shares', () => {
    const c = chartOf(view, 'search: share of users per version');
    const periods = [...new Set(rollout.data.map((r) => r.period))];
    assert.deepEqual(c.labels, periods.map((p) => p.slice(0, 10)));
    for (const d of c.data) {
      assert.deepEqual(d.data, periods.map((p) => rollout.data.find((r) => r.period === p && r.product_version === d.label)?.share ?? 0));
    }
    assert.deepEqual(c.data.map((d) => d.label).sort(), [...new Set(rollout.data.map((r) => r.product_version))].sort());
  });
  const heat = await page.evaluate(`[...document.querySelectorAll('#retention-table tbody tr')].map((tr) => [tr.dataset.cohort,
    Number(tr.querySelector('td.num').dataset.value), [...tr.querySelectorAll('td[data-offset]')].map((td) => [Number(td.dataset.offset), Number(td.dataset.users)])])`);
  check('feature page: retention heat map = feature_retention (week cohorts)', () => {
    const expected = [];
    for (const r of retention.data) {
      let row = expected.find((e) => e[0] === r.cohort);
      if (!row) expected.push(row = [r.cohort, r.cohort_users, []]);
      row[2].push([r.period_offset, r.users]);
    }
    assert.ok(expected.length > 1);
    assert.deepEqual(heat, expected);
  });
  const bd = await page.evaluate(`[...document.querySelectorAll('#breakdown-table tbody tr')].map((tr) => [tr.dataset.value,
    ...[...tr.querySelectorAll('td')].map((td) => Number(td.dataset.value))])`);
  check('feature page: breakdown by device = property_breakdown', () => {
    assert.deepEqual(bd, breakdown.data.map((r) => [r.value, r.events, r.users]));
    const c = chartOf(view, 'search: events by device');
    assert.deepEqual(c.data[0].data, breakdown.data.slice(0, 12).map((r) => r.events));
  });

  // A funnel.
  await open('#/funnel?steps=search,filter,export&window=3600');
  view = await read();
  const funnel = await apiGet('feature_funnel', { steps: 'search,filter,export', window: 3600 });
  const funnelUsers = await column('#funnel-table tbody tr td.num:nth-of-type(2)');
  check('funnel: steps and users = feature_funnel', () => {
    assert.deepEqual(view.errors, []);
    assert.deepEqual(funnelUsers, funnel.data.map((r) => r.users));
    const c = chartOf(view, 'Users reaching each step');
    assert.deepEqual(c.labels, funnel.data.map((r) => `${r.step}. ${r.feature_id}`));
    assert.deepEqual(c.data[0].data, funnel.data.map((r) => r.users));
  });

  // A user, dates in Asia/Kolkata (UTC+05:30 all year).
  await open('#/user?user_id=u3&tz=Asia%2FKolkata');
  const usage = await apiGet('user_feature_usage', { user_id: 'u3' });
  const userRows = await page.evaluate(`[...document.querySelectorAll('#user-table tbody tr')].map((tr) => [tr.dataset.feature, tr.dataset.version,
    Number(tr.querySelector('td.num').dataset.value), ...[...tr.querySelectorAll('td.date')].map((td) => td.textContent)])`);
  const kolkata = (utc) => new Date(Date.parse(utc.replace(' ', 'T') + 'Z') + 330 * 60000).toISOString().slice(0, 16).replace('T', ' ');
  check('user lookup: rows = user_feature_usage, first and last use in Asia/Kolkata', () => {
    assert.ok(usage.data.length > 1);
    assert.deepEqual(userRows, usage.data.map((r) => [r.feature_id, r.product_version, r.usage_count, kolkata(r.first_usage), kolkata(r.last_usage)]));
  });

  // The quarantine, with its reasons as the store words them.
  await open('#/quarantine');
  const q = await (await fetch(`${origin}/v0/pipes/feature_events_quarantine.json`, { headers: { Authorization: `Bearer ${READER}` } })).json();
  const reasons = await texts('#quarantine-table td.reason');
  check('quarantine: the rejected rows and their errors', () => {
    assert.ok(q.data.length >= 2);
    assert.deepEqual(reasons, q.data.slice(0, 50).map((r) => r.error));
  });

  // An API error is shown as the API words it.
  await open('#/feature/search?tz=Mars%2FOlympus_Mons');
  view = await read();
  const tzError = await apiGet('feature_usage_timeline', { feature_id: 'search', tz: 'Mars/Olympus_Mons' });
  check('errors: the API\'s message, as it words it', () => {
    assert.match(tzError.error, /^tz: /);
    assert.ok(view.errors.length >= 1);
    for (const e of view.errors) assert.equal(e, tzError.error);
  });

  // A JWT that pins product_version: the page shows that version only.
  const pinned = jwt({ name: 'pinned-reader', exp: Math.floor(Date.now() / 1000) + 3600,
    scopes: ENDPOINTS.map((e) => ({ type: 'PIPES:READ', resource: e, fixed_params: { product_version: '1.0' } })) });
  await open('#/overview?product_version=1.1', { token: pinned });
  const pinnedRows = await page.evaluate(`[...document.querySelectorAll('#feature-table tbody tr')].map((tr) => [tr.dataset.feature,
    Number(tr.querySelector('td[data-key=events]').dataset.value)])`);
  const pinnedNote = await page.evaluate("document.getElementById('pinned').textContent");
  const pinnedAdoption = await apiGet('feature_adoption', { product_version: '1.0' });
  check('a JWT pinning product_version=1.0: the table is version 1.0\'s, the filter says so', () => {
    assert.deepEqual(pinnedRows, pinnedAdoption.data.map((r) => [r.feature_id, r.events]));
    assert.equal(pinnedNote, 'Pinned by the token: product_version = 1.0');
  });

  // The token asked for: a wrong one is refused in the API's words, a right one kept.
  await open('#/overview', { token: 'not-a-token' });
  const refusal = await page.evaluate("[document.getElementById('token-dialog').open, document.getElementById('token-error').textContent]");
  const apiRefusal = await (await fetch(`${origin}/v0/pipes`, { headers: { Authorization: 'Bearer not-a-token' } })).json();
  await page.evaluate(`(() => { const f = document.getElementById('token-form'); f.elements.token.value = ${JSON.stringify(READER)}; f.requestSubmit(); })()`);
  await page.waitFor("document.documentElement.dataset.state === 'ready'");
  const kept = await page.evaluate("[localStorage.getItem('usagedb.token'), document.getElementById('token-dialog').open, document.querySelectorAll('#feature-table tbody tr').length]");
  check('the token: a wrong one is refused as the API words it; the one typed in is kept in the browser', () => {
    assert.deepEqual(refusal, [true, apiRefusal.error]);
    assert.deepEqual(kept, [READER, false, adoption.data.length]);
  });

  // A phone: nothing wider than the screen.
  await page.send('Emulation.setDeviceMetricsOverride', { width: 390, height: 844, deviceScaleFactor: 2, mobile: true });
  await open('#/overview', { token: READER });
  const widths = await page.evaluate('[document.documentElement.scrollWidth, document.documentElement.clientWidth]');
  check(`a phone (390 px): the overview is no wider than the screen (${widths[0]} px)`, () => assert.ok(widths[0] <= widths[1]));
  await page.send('Emulation.setDeviceMetricsOverride', { width: 1400, height: 900, deviceScaleFactor: 1, mobile: false });

  // The dashboard's own files: CSP, caching.
  const res = await fetch(`${origin}/`, { headers: { 'Accept-Encoding': 'gzip' } });
  check('GET /: the Content-Security-Policy allows only the server itself', () => {
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy'), /script-src 'self'; style-src 'self'/);
    assert.doesNotMatch(res.headers.get('content-security-policy'), /unsafe|http/);
  });

  if (screenshotDir) await screenshots();
  const ok = await finish();
  process.exit(ok && failures.length === 0 ? 0 : 1);
}

async function screenshots() {
  fs.mkdirSync(screenshotDir, { recursive: true });
  const shots = [['dashboard-overview.png', '#/overview?granularity=day'],
    ['dashboard-feature.png', `#/feature/${encodeURIComponent((await apiGet('feature_adoption', {})).data[0].feature_id)}?granularity=week`]];
  for (const [file, hash] of shots) {
    await open(hash);
    await page.evaluate('window.scrollTo(0, 0)');
    const shot = await page.send('Page.captureScreenshot', { format: 'png', clip: { x: 0, y: 0, width: 1400, height: 900, scale: 1 } });
    const out = path.join(screenshotDir, file);
    fs.writeFileSync(out, Buffer.from(shot.data, 'base64'));
    // Made small for the repository by Debian's pngquant when it is installed.
    const quant = spawnSync('pngquant', ['--quality', '70-95', '--speed', '1', '--strip', '--force', '--output', out, out]);
    const how = quant.error ? 'not optimized: pngquant is not installed' : quant.status === 0 ? 'optimized by pngquant' : `pngquant failed (${quant.status})`;
    console.log(`wrote ${out} (${fs.statSync(out).size} bytes, ${how})`);
  }
}

// Every request the page made went to the server; nothing was logged as an
// error (exceptions, console.error, CSP violations, failed loads).
async function finish() {
  const requests = page.events.filter((e) => e.method === 'Network.requestWillBeSent').map((e) => e.params.request.url);
  const outside = requests.filter((u) => !u.startsWith(origin + '/') && !u.startsWith('data:') && u !== 'about:blank');
  check(`no request left the server (${requests.length} requests, all to ${origin})`, () => assert.deepEqual(outside, []));
  const errors = [];
  for (const e of page.events) {
    if (e.method === 'Runtime.exceptionThrown') errors.push(e.params.exceptionDetails.exception?.description ?? e.params.exceptionDetails.text);
    if (e.method === 'Runtime.consoleAPICalled' && (e.params.type === 'error' || e.params.type === 'warning')) errors.push(e.params.args.map((a) => a.value ?? a.description).join(' '));
    if (e.method === 'Log.entryAdded' && e.params.entry.level === 'error') errors.push(`${e.params.entry.source}: ${e.params.entry.text} ${e.params.entry.url ?? ''}`);
  }
  // The browser logs the two refusals the test asked for: a zone that does not exist (400),
  // and the catalog with a wrong token (403).
  const expected = errors.filter((t) => /^network: .*status of 400.*Olympus_Mons/.test(t) ||
    /^network: .*status of 403 \(Forbidden\) http:\S+\/v0\/pipes$/.test(t));
  const unexpected = errors.filter((t) => !expected.includes(t));
  check('no JavaScript error, CSP violation or failed load was logged', () => assert.deepEqual(unexpected, []));
  await browser.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
  if (failures.length === 0) fs.rmSync(tmp, { recursive: true, force: true });
  return true;
}

async function bench() {
  await open('#/overview', { token: READER });  // warms the server's caches and the browser's
  const runs = [];
  for (let i = 0; i < 5; ++i) {
    await page.send('Emulation.setDeviceMetricsOverride', { width: 1400, height: 900, deviceScaleFactor: 1, mobile: false });
    await new Promise((r) => setTimeout(r, 300));  // the access log is written every 100 ms
    const before = fs.statSync(accessLog).size;
    const ms = await open('#/overview');
    await new Promise((r) => setTimeout(r, 300));
    const lines = fs.readFileSync(accessLog).subarray(before).toString('utf8').split('\n').filter((l) => l.includes('/v0/pipes'));
    const requests = lines.map((l) => {
      const m = l.match(/"GET ([^"]+)" (\d+) \d+ ([\d.]+)ms/);
      return { target: m[1], status: Number(m[2]), ms: Number(m[3]) };
    });
    runs.push({ ms, requests });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`the overview on ${benchStore}: median of ${runs.length} loads`);
  for (const { target, status } of runs[0].requests) {
    const times = runs.map((r) => r.requests.find((x) => x.target === target)?.ms ?? NaN);
    console.log(`  ${median(times).toFixed(2).padStart(8)} ms  ${status} ${target}`);
  }
  console.log(`  ${median(runs.map((r) => r.requests.reduce((s, x) => s + x.ms, 0))).toFixed(2).padStart(8)} ms  all requests on the server, in total`);
  console.log(`  ${median(runs.map((r) => r.ms))} ms until the page was ready (navigation to every panel drawn)`);
  await finish();
}
