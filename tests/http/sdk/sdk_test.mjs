// Tinybird's TypeScript SDK (@tinybirdco/sdk, its TinybirdApi class, unmodified)
// against `usagedb serve`: ingest, ingestBatch, appendDatasource with a CSV
// file, query, deleteDatasource, errors, and a JWT pinned to one user.
//
//   node tests/http/sdk/sdk_test.mjs PATH/TO/usagedb [SDK_DIR]
//
// SDK_DIR defaults to <repo>/.peers/tinybird-sdk (tests/http/sdk/install_sdk.sh
// installs it there). Exit 77 (skipped, with a message) when it is not installed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const usagedb = process.argv[2];
const sdkDir = process.argv[3] ?? path.join(process.env.USAGEDB_PEERS_DIR ?? path.join(here, '../../../.peers'), 'tinybird-sdk');
const entry = path.join(sdkDir, 'node_modules/@tinybirdco/sdk/dist/index.js');
if (!usagedb) {
  console.error('usage: sdk_test.mjs PATH/TO/usagedb [SDK_DIR]');
  process.exit(2);
}
if (!fs.existsSync(entry)) {
  console.log(`SKIPPED: @tinybirdco/sdk is not installed in ${sdkDir} ` +
              '(bash tests/http/sdk/install_sdk.sh; it needs the npm registry)');
  process.exit(77);
}
const { TinybirdApi, TinybirdApiError } = await import(pathToFileURL(entry).href);

const ADMIN = 'sdk-admin-' + crypto.randomBytes(8).toString('hex');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'usagedb-sdk-'));
const tokensFile = path.join(tmp, 'tokens.json');
fs.writeFileSync(tokensFile, JSON.stringify({ tokens: [{ name: 'admin', token: ADMIN, scopes: ['ADMIN'] }] }));
const accessLog = path.join(tmp, 'access.log');

const server = spawn(usagedb, ['serve', '--store', path.join(tmp, 'store'), '--tokens', tokensFile,
                               '--port', '0', '--access-log', accessLog], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  let out = '';
  const timer = setTimeout(() => reject(new Error('usagedb serve did not start: ' + out)), 20000);
  server.stdout.on('data', (chunk) => {
    out += chunk;
    const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    if (m) { clearTimeout(timer); resolve(Number(m[1])); }
  });
  server.on('exit', (code) => reject(new Error(`usagedb serve exited with ${code}: ${out}`)));
});
const baseUrl = `http://127.0.0.1:${port}`;

let failures = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok: ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAILED: ${name}\n  ${e.stack ?? e}`);
  }
}

const api = new TinybirdApi({ baseUrl, token: ADMIN });
const event = (id, user, feature, extra = {}) => ({
  event_id: id, user_id: user, feature_id: feature, product_version: '3.1.0', event_type: 'click',
  timestamp: '2025-06-01 09:30:00', session_id: 's1', ...extra,
});

await check('ingest: one event, waited for (wait=true)', async () => {
  const r = await api.ingest('feature_events', event('sdk_1', 'sdk_user', 'search', { metadata: { device: 'mobile' } }));
  assert.deepEqual(r, { successful_rows: 1, quarantined_rows: 0, duplicate_rows: 0 });
});

await check('ingestBatch: a batch, and a duplicate event_id skipped', async () => {
  const r = await api.ingestBatch('feature_events', [
    event('sdk_2', 'sdk_user', 'export'), event('sdk_3', 'sdk_user', 'export'), event('sdk_1', 'sdk_user', 'search'),
  ]);
  assert.deepEqual(r, { successful_rows: 2, quarantined_rows: 0, duplicate_rows: 1 });
});

await check('appendDatasource: a CSV file, as multipart', async () => {
  const csv = path.join(tmp, 'events.csv');
  fs.writeFileSync(csv, 'event_id,user_id,feature_id,product_version,event_type,timestamp,session_id,metadata\n' +
                        'csv_1,sdk_user,filter,3.1.0,view,2025-06-02 10:00:00,s2,"{""device"":""desktop""}"\n' +
                        'csv_2,other_user,filter,3.0.0,view,2025-06-02 11:00:00,s3,\n' +
                        'csv_3,other_user,,3.0.0,view,2025-06-02 11:00:00,s3,\n');
  const r = await api.appendDatasource('feature_events', { file: csv });
  assert.equal(r.successful_rows, 2);
  assert.equal(r.quarantined_rows, 1);
  assert.match(r.import_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

await check('query: user_feature_usage of a user', async () => {
  const r = await api.query('user_feature_usage', { user_id: 'sdk_user' });
  assert.deepEqual(r.meta.map((c) => c.name),
                   ['user_id', 'feature_id', 'product_version', 'usage_count', 'first_usage', 'last_usage']);
  assert.equal(r.rows, 3);
  assert.deepEqual(r.data.map((row) => [row.feature_id, row.usage_count]), [['export', 2], ['filter', 1], ['search', 1]]);
  assert.equal(typeof r.statistics.elapsed, 'number');
});

await check('query: numbers and unknown parameters (limit, from=ts-sdk)', async () => {
  const r = await api.query('feature_usage_summary', { limit: 1 });
  assert.equal(r.rows, 1);
  assert.equal(r.rows_before_limit_at_least, 4);  // (feature, version) groups
});

await check('query: a bad parameter is a TinybirdApiError 400 naming it', async () => {
  await assert.rejects(api.query('feature_usage_timeline', { granularity: 'minute' }), (e) => {
    assert.ok(e instanceof TinybirdApiError);
    assert.equal(e.statusCode, 400);
    assert.match(e.message, /^granularity: expected one of hour, day, week, month, got 'minute'$/);
    return true;
  });
});

await check('a wrong token is a TinybirdApiError 403', async () => {
  const wrong = new TinybirdApi({ baseUrl, token: 'not-a-token' });
  await assert.rejects(wrong.query('user_feature_usage', { user_id: 'x' }), (e) => e.statusCode === 403);
});

await check('a JWT pinned with fixed_params reads only its user', async () => {
  const b64 = (x) => Buffer.from(JSON.stringify(x)).toString('base64url');
  const unsigned = b64({ alg: 'HS256', typ: 'JWT' }) + '.' + b64({
    name: 'frontend_other', exp: Math.floor(Date.now() / 1000) + 600,
    scopes: [{ type: 'PIPES:READ', resource: 'user_feature_usage', fixed_params: { user_id: 'other_user' } }],
  });
  const jwt = unsigned + '.' + crypto.createHmac('sha256', ADMIN).update(unsigned).digest('base64url');
  const pinned = new TinybirdApi({ baseUrl, token: jwt });
  const r = await pinned.query('user_feature_usage', { user_id: 'sdk_user' });
  assert.deepEqual(r.data.map((row) => row.user_id), ['other_user']);
  await assert.rejects(pinned.query('feature_usage_summary', {}), (e) => e.statusCode === 403);
});

await check("deleteDatasource: user_id = '...', dry run then for real", async () => {
  const dry = await api.deleteDatasource('feature_events', { deleteCondition: "user_id = 'sdk_user'", dryRun: true });
  assert.deepEqual(dry, { rows_to_be_deleted: 4 });
  const done = await api.deleteDatasource('feature_events', { deleteCondition: "user_id = 'sdk_user'" });
  assert.deepEqual(done, { rows_deleted: 4 });
  const r = await api.query('user_feature_usage', { user_id: 'sdk_user' });
  assert.equal(r.rows, 0);
  const kept = await api.query('user_feature_usage', { user_id: 'other_user' });
  assert.equal(kept.rows, 1);
});

await check('SIGTERM: exit status 0; the access log names tokens, never shows them', async () => {
  const code = await new Promise((resolve) => { server.on('exit', resolve); server.kill('SIGTERM'); });
  assert.equal(code, 0);
  const log = fs.readFileSync(accessLog, 'utf8');
  assert.match(log, / admin\n/);
  assert.ok(!log.includes(ADMIN), 'the admin token is in the access log');
  assert.ok(!log.includes('.ey'), 'a JWT is in the access log');
});

if (server.exitCode === null) server.kill('SIGKILL');
fs.rmSync(tmp, { recursive: true, force: true });
process.exit(failures === 0 ? 0 : 1);
