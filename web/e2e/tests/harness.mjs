// Starts `mamori demo` on a free port with a fresh data directory, and Debian's chromium.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
export const repoRoot = root;
export const artifacts = join(root, 'web', 'e2e', 'artifacts');
mkdirSync(artifacts, { recursive: true });

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

export async function startDemo() {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'mamori-e2e-'));
  // The binary `cargo build` just made: where CARGO_TARGET_DIR puts it, if set.
  const target = resolve(root, process.env.CARGO_TARGET_DIR || 'target');
  const bin = process.env.MAMORI_BIN || join(target, 'debug', 'mamori');
  const proc = spawn(bin, ['--data', data, '--listen', `127.0.0.1:${port}`, 'demo', '--customers', '25'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', () => {});
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok && out.includes('API key')) break; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = () => {
    proc.kill('SIGINT');
    // The data directory is throw-away; leaving one per test fills /tmp over many runs.
    proc.once('exit', () => rmSync(data, { recursive: true, force: true }));
  };
  return { base, data, bin, output: () => out, stop };
}

export async function launchBrowser() {
  // Playwright's launch() always gives chromium a fresh, throw-away --user-data-dir of its own.
  const options = {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  };
  // On a freshly installed machine chromium's very first start sometimes exits at once (CI saw it
  // once: "Target page, context or browser has been closed" while it builds its caches). That is the
  // machine, not the product: try again, saying so, and fail on the third refusal.
  for (let attempt = 1; ; attempt++) {
    try {
      return await chromium.launch(options);
    } catch (error) {
      if (attempt >= 3) throw error;
      console.error(`chromium did not start (attempt ${attempt}): ${String(error).split('\n')[0]}`);
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
}

/** The newest code the demo `base` mailed to `address`, from its outbox page (newest first).
 *  Other mail to the same person — an incident's notice sent meanwhile — may be newer: the code
 *  is the newest message that carries one. */
export async function codeFor(base, address) {
  for (let i = 0; i < 100; i++) {
    const html = await (await fetch(`${base}/privacy/demo/outbox`)).text();
    const code = html.split('<article')
      .filter((m) => m.includes(`>${address}<`))
      .map((m) => m.match(/\b(\d{6})\b/)?.[1])
      .find(Boolean);
    if (code) return code;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no code for ${address}`);
}

/** Signs `page` in to the demo `base` as `address`, by the code from the outbox. */
export async function signIn(page, base, address, lang) {
  await page.goto(`${base}/privacy/sign-in?lang=${lang}`);
  await page.fill('#email', address);
  await page.click('button[type=submit]');
  await page.fill('#code', await codeFor(base, address));
  await page.click('button[type=submit]');
  await page.waitForURL(/\/privacy\/me/);
}

/** axe's serious and critical violations on the page, as readable lines. */
export async function violations(page) {
  await page.addScriptTag({ path: axePath });
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  return found;
}

/** How far the page is wider than a 390 px screen (0 when it fits). */
export async function overflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}
