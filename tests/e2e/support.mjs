// Helpers the robustness tests need beyond harness.mjs: a site whose `wrangler dev` takes
// extra arguments (fault injection), may be prepared before it starts (state copied in), and
// may restart with other arguments; local KV access; read counts; small content folders.
//
//   const site = await startSite({ wranglerArgs: ['--var', 'COUNTER_FAULT:throw'] });
//   await site.restart({ wranglerArgs: [] });

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BLOG, CONTENT, ROOT, WRANGLER, freePort, get, run, sleep, waitFor } from './harness.mjs';

export const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
export const BOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_LIMIT = 400_000;

const live = new Set();
const leftovers = new Set();
process.on('exit', () => {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
  for (const dir of leftovers) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {}
  }
});

/** A temporary folder removed when the process exits (or earlier by `removeTemp`). */
export async function tempDir(prefix) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  leftovers.add(dir);
  return dir;
}

export async function removeTemp(dir) {
  await fs.rm(dir, { recursive: true, force: true });
  leftovers.delete(dir);
}

/** A content folder: the project's posts plus `extra` ({ name: text or bytes }). */
export async function contentWith(extra = {}, { base = CONTENT } = {}) {
  const dir = await tempDir('blog-e2e-content-');
  await fs.cp(base, dir, { recursive: true });
  for (const [name, data] of Object.entries(extra)) await fs.writeFile(path.join(dir, name), data);
  return dir;
}

/**
 * Starts a site on a fresh state folder, like harness.startSite, plus:
 *   wranglerArgs: extra `wrangler dev` arguments (such as ['--var', 'COUNTER_FAULT:throw'])
 *   syncArgs:     extra `blog sync` arguments for the first sync
 *   beforeStart:  async (site) => {} run after the sync and before the server starts
 * The server is ready when /style.css answers (it needs no KV), so a site with a broken
 * index still starts.
 */
export async function startSite({
  contentDir = CONTENT,
  copyContent = false,
  sync = true,
  syncArgs = [],
  wranglerArgs = [],
  beforeStart = null,
} = {}) {
  const stateDir = await tempDir('blog-e2e-state-');
  const tempDirs = [stateDir];
  if (copyContent) {
    const copy = await tempDir('blog-e2e-content-');
    await fs.cp(contentDir, copy, { recursive: true });
    tempDirs.push(copy);
    contentDir = copy;
  }
  const site = {
    base: '',
    port: 0,
    stateDir,
    contentDir,
    wranglerArgs,
    output: '',
    child: null,
    sync: (args = [], options = {}) =>
      run(BLOG, ['sync', '--persist-to', stateDir, '--content', site.contentDir, ...args], options),
    check: (args = []) => run(BLOG, ['check', '--content', site.contentDir, ...args]),
    /** Stops the dev server and starts it again, on the same port and state, optionally with other arguments. */
    restart: async ({ wranglerArgs: args } = {}) => {
      await stopServer(site);
      if (args) site.wranglerArgs = args;
      await startServer(site);
    },
    stop: async () => {
      await stopServer(site);
      for (const dir of tempDirs) await removeTemp(dir);
    },
    log: (tail = 4000) => site.output.slice(-tail),
    /** `wrangler kv ...` against this site's local KV. */
    kv: (args) => kv(stateDir, args),
  };
  try {
    if (sync) {
      const result = await site.sync(syncArgs);
      if (result.code !== 0) throw new Error(`blog sync failed (${result.code}):\n${result.stdout}${result.stderr}`);
      site.firstSync = result;
    }
    if (beforeStart) await beforeStart(site);
    site.port = await freePort();
    site.base = `http://127.0.0.1:${site.port}`;
    await startServer(site);
  } catch (e) {
    await site.stop();
    throw e;
  }
  return site;
}

async function startServer(site) {
  const inspectorPort = await freePort();
  const child = spawn(
    WRANGLER,
    [
      'dev',
      '--ip', '127.0.0.1',
      '--port', String(site.port),
      '--inspector-port', String(inspectorPort),
      '--persist-to', site.stateDir,
      '--show-interactive-dev-session=false',
      ...site.wranglerArgs,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  live.add(child.pid);
  site.child = child;
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.exited.then((e) => {
    live.delete(child.pid);
    // Stopped by us or not, record it: a server that died explains requests that fail.
    if (site.child === child) site.died = { ...e, at: new Date().toISOString() };
  });
  const append = (d) => {
    site.output += d;
    if (site.output.length > OUTPUT_LIMIT) site.output = site.output.slice(-OUTPUT_LIMIT / 2);
  };
  child.stdout.setEncoding('utf8').on('data', append);
  child.stderr.setEncoding('utf8').on('data', append);

  let early = null;
  child.exited.then((e) => (early = e));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (early) throw new Error(`wrangler dev exited (${JSON.stringify(early)}) before it was ready:\n${site.log()}`);
    try {
      const res = await fetch(`${site.base}/style.css`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `GET /style.css answered ${res.status}`;
    } catch (e) {
      last = String(e.cause?.code ?? e.message);
    }
    await sleep(250);
  }
  await stopServer(site);
  throw new Error(`wrangler dev was not ready after ${READY_TIMEOUT_MS / 1000} s (${last}):\n${site.log()}`);
}

async function stopServer(site) {
  const child = site.child;
  if (!child) return;
  site.child = null;
  if (!live.has(child.pid)) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {}
  const timedOut = await Promise.race([child.exited.then(() => false), sleep(STOP_TIMEOUT_MS).then(() => true)]);
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {}
  if (timedOut) await child.exited;
  live.delete(child.pid);
  for (let i = 0; i < 40; i++) {
    if (await portIsFree(site.port)) return;
    await sleep(250);
  }
}

async function portIsFree(port) {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Runs `wrangler kv <args> --binding POSTS --local --persist-to <stateDir>`. */
export function kv(stateDir, args) {
  return run(WRANGLER, ['kv', ...args, '--binding', 'POSTS', '--local', '--persist-to', stateDir]);
}

/** Every key in a state folder's local KV: [{ name, metadata }]. Throws when wrangler fails. */
export async function kvKeys(stateDir) {
  const { code, stdout, stderr } = await kv(stateDir, ['key', 'list']);
  if (code !== 0) throw new Error(`wrangler kv key list failed (${code}):\n${stdout}${stderr}`);
  const start = stdout.indexOf('[');
  if (start < 0) throw new Error(`wrangler kv key list printed no JSON list:\n${stdout}`);
  return JSON.parse(stdout.slice(start));
}

/** The count a post's read badge shows, or null when the badge does not answer 200 with a count. */
export async function readsShown(site, postPath) {
  const { status, body } = await get(`${site.base}${postPath}/reads.svg`);
  if (status !== 200) return null;
  const m = /<text[^>]*>([\d,]+) reads?<\/text>/.exec(body);
  return m ? Number(m[1].replace(/,/g, '')) : null;
}

/** Polls a badge until it shows `want`; returns it, or throws saying what it showed last. */
export async function waitForReads(site, postPath, want, timeoutMs = 40_000) {
  let last;
  return waitFor(
    async () => {
      last = await readsShown(site, postPath);
      return last === want ? last : null;
    },
    { timeoutMs, intervalMs: 500, describe: () => `${postPath}: badge shows ${last}, want ${want}` },
  );
}

/** A browser-like GET from one reader (the local runtime passes CF-Connecting-IP through). */
export function readAs(site, reader, postPath, headers = {}) {
  return get(`${site.base}${postPath}`, { headers: { 'user-agent': BROWSER, 'cf-connecting-ip': reader, ...headers } });
}

/** The hrefs of Popular Reads, in order. */
export function popularOrder(html) {
  const aside = /<aside class="popular"[^>]*>([\s\S]*?)<\/aside>/.exec(html);
  if (!aside) throw new Error(`no Popular Reads on the page:\n${html.slice(0, 2000)}`);
  return [...aside[1].matchAll(/<a href="([^"]*)"/g)].map((m) => m[1]);
}

/** A post file's text. */
export function postText({ title = 'T', date = '2026-01-01', summary = 'S.', extra = '', body = 'Body.' } = {}) {
  const q = (s) => JSON.stringify(s);
  return `+++\ntitle = ${q(title)}\ndate = ${date}\nsummary = ${q(summary)}\n${extra}+++\n\n${body}\n`;
}

export { sleep };

/**
 * A request whose path and headers go on the wire as written (harness.rawRequest plus
 * headers and a body). Resolves { status, headers, body }; rejects on a connection error.
 */
export function request(base, rawPath, { method = 'GET', headers = {}, body = null, timeoutMs = 15_000 } = {}) {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: rawPath, method, headers, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout: ${method} ${rawPath}`)));
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/** The directives of a Content-Security-Policy: { name: [sources] }. */
export function cspDirectives(csp) {
  const out = {};
  for (const part of (csp ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out[name.toLowerCase()] = sources;
  }
  return out;
}

/**
 * The security headers every response must carry. `headers` is a fetch Headers or a Node
 * headers object.
 */
export function assertSecurityHeaders(headers, where) {
  const h = (name) => (typeof headers.get === 'function' ? headers.get(name) : headers[name]) ?? null;
  const csp = h('content-security-policy');
  assert.ok(csp, `${where}: no Content-Security-Policy`);
  const d = cspDirectives(csp);
  assert.deepEqual(d['default-src'], ["'none'"], `${where}: default-src is not 'none': ${csp}`);
  assert.ok(!('script-src' in d) && !('script-src-elem' in d) && !('script-src-attr' in d), `${where}: a script-src beyond default-src 'none': ${csp}`);
  assert.doesNotMatch(csp, /'unsafe-eval'/, `${where}: ${csp}`);
  assert.equal(h('x-content-type-options'), 'nosniff', `${where}: x-content-type-options`);
  assert.ok(h('referrer-policy'), `${where}: no referrer-policy`);
  assert.ok(h('permissions-policy'), `${where}: no permissions-policy`);
  assert.match(h('strict-transport-security') ?? '', /max-age=\d{7,}/, `${where}: strict-transport-security`);
  const framing = h('x-frame-options') === 'DENY' || (d['frame-ancestors'] ?? []).join(' ') === "'none'";
  assert.ok(framing, `${where}: framing allowed (x-frame-options ${h('x-frame-options')}, csp ${csp})`);
}
