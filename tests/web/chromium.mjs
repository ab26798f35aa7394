// Headless Chromium driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: NUL-separated JSON messages on file descriptors
// 3 and 4), with no WebSocket and no npm package: what the dashboard's
// browser test needs.
//
//   const browser = await Browser.launch(chromiumPath, { width: 1400, height: 900 });
//   const page = await browser.newPage();
//   await page.send('Page.navigate', { url });
//   const value = await page.evaluate('document.title');
//   await browser.close();
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The Chromium to run: $CHROMIUM, else the first of Debian's names on PATH;
// null when there is none.
export function findChromium() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
}

export class Browser {
  static async launch(executable, { width = 1400, height = 900 } = {}) {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'usagedb-chromium-'));
    const args = [
      '--headless=new', '--disable-gpu', '--no-first-run', '--no-default-browser-check', '--disable-extensions',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-default-apps',
      '--disable-features=Translate,MediaRouter,OptimizationHints', '--metrics-recording-only', '--mute-audio',
      '--hide-scrollbars', '--font-render-hinting=none', `--window-size=${width},${height}`,
      `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank',
    ];
    // Chromium's sandbox refuses to run as root (CI containers).
    if (process.getuid && process.getuid() === 0) args.unshift('--no-sandbox');
    // TMPDIR inside the profile: Chromium's own temporary files (its
    // Singleton socket directory) go where close() removes them.
    const child = spawn(executable, args, {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: profile },
    });
    const browser = new Browser(child, profile);
    const version = await browser.send('Browser.getVersion');
    browser.version = version.product;
    return browser;
  }

  constructor(child, profile) {
    this.child = child;
    this.profile = profile;
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = [];
    this.stderr = '';
    let buffer = Buffer.alloc(0);
    child.stderr.on('data', (d) => { this.stderr += d; });
    child.stdio[4].on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      let end;
      while ((end = buffer.indexOf(0)) >= 0) {
        const message = JSON.parse(buffer.subarray(0, end).toString('utf8'));
        buffer = buffer.subarray(end + 1);
        this.dispatch(message);
      }
    });
    this.exited = new Promise((resolve) => child.on('exit', resolve));
    this.exited.then((code) => {
      for (const { reject } of this.pending.values()) reject(new Error(`chromium exited (${code}): ${this.stderr.slice(-2000)}`));
      this.pending.clear();
    });
  }

  dispatch(message) {
    if (message.id !== undefined) {
      const p = this.pending.get(message.id);
      if (!p) return;
      this.pending.delete(message.id);
      if (message.error) p.reject(new Error(`${p.method}: ${message.error.message}`));
      else p.resolve(message.result);
      return;
    }
    for (const l of this.listeners) l(message);
  }

  // Sends a DevTools command (to a page when sessionId is given).
  send(method, params = {}, sessionId) {
    const id = this.nextId++;
    const message = { id, method, params };
    if (sessionId) message.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.child.stdio[3].write(JSON.stringify(message) + '\0');
    });
  }

  async newPage() {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    return new Page(this, sessionId);
  }

  async close() {
    try {
      await Promise.race([this.send('Browser.close'), new Promise((r) => setTimeout(r, 3000))]);
    } catch {
      // already gone
    }
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    await this.exited;
    // Chromium's helper processes may still write to the profile for a
    // moment after the browser has exited: remove it until it stays gone.
    for (let attempt = 0; attempt < 20 && fs.existsSync(this.profile); ++attempt) {
      try {
        fs.rmSync(this.profile, { recursive: true, force: true });
      } catch {
        // a file appeared while removing: try again
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export class Page {
  constructor(browser, sessionId) {
    this.browser = browser;
    this.sessionId = sessionId;
    this.events = [];
    browser.listeners.push((m) => {
      if (m.sessionId === sessionId) this.events.push(m);
    });
  }

  send(method, params = {}) {
    return this.browser.send(method, params, this.sessionId);
  }

  // The value of a JavaScript expression in the page (awaited when a promise).
  async evaluate(expression) {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) {
      throw new Error(`evaluate: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    }
    return r.result.value;
  }

  // Waits until `expression` is truthy; its value. An exception (a document
  // being replaced by a navigation) counts as not yet.
  async waitFor(expression, timeoutMs = 20000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await this.evaluate(expression).catch(() => undefined);
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
