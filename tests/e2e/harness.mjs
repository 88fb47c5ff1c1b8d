// End-to-end harness: a real `wrangler dev` (workerd) serving the built worker, with its
// local KV filled by the real `blog sync`, each site in its own temporary state folder.
//
//   const site = await startSite({ copyContent: true });
//   after(() => site.stop());
//   const res = await fetch(`${site.base}/`);

import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { existsSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, portIsFree } from '../tools/ports.mjs';

export { freePort };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CONTENT = path.join(ROOT, 'content');
export const BLOG = path.join(ROOT, 'target/release/blog');
export const WRANGLER = path.join(ROOT, 'node_modules/.bin/wrangler');
export const ARTIFACTS = path.join(ROOT, 'tests/artifacts');
/** The plain text of the page the index is modelled on. */
export const SEED = path.join(ROOT, 'tests/fixtures/seed-index.txt');

const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_LIMIT = 400_000;

/** Every wrangler process group still running, killed on the way out whatever happens. */
const live = new Set();
/** Temporary folders not yet removed by `stop()`. */
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
      // The dates lock `blog sync` writes beside a content folder.
      rmSync(`${dir}.lock`, { force: true });
    } catch {}
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => process.exit(130));
}

/** Runs a command to completion: { code, stdout, stderr }. */
export function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...options,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? `signal ${signal}`, stdout, stderr }));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A temporary folder removed when the process exits (or earlier by `removeTemp`). */
export async function tempDir(prefix) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  leftovers.add(dir);
  return dir;
}

export async function removeTemp(dir) {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.rm(`${dir}.lock`, { force: true });
  leftovers.delete(dir);
}

/** Runs `wrangler kv <args> --binding POSTS --local --persist-to <stateDir>`. */
export function kv(stateDir, args) {
  return run(WRANGLER, ['kv', ...args, '--binding', 'POSTS', '--local', '--persist-to', stateDir]);
}

/**
 * Starts a site on a fresh state folder.
 *   contentDir:   the posts folder to sync (default: the project's content/)
 *   copyContent:  copy that folder into a temporary one first, so the test may edit it
 *   sync:         run `blog sync` before serving (default true)
 *   syncArgs:     extra `blog sync` arguments for that first sync
 *   wranglerArgs: extra `wrangler dev` arguments (such as ['--var', 'COUNTER_FAULT:throw'])
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
  if (!existsSync(BLOG)) {
    throw new Error(`${BLOG} is missing: run \`cargo build --release -p blog-author --bin blog\` first`);
  }
  const stateDir = await tempDir('blog-e2e-state-');
  const tempDirs = [stateDir];
  if (copyContent) {
    const copy = await tempDir('blog-e2e-content-');
    tempDirs.push(copy);
    await fs.cp(contentDir, copy, { recursive: true });
    contentDir = copy;
  }

  const site = {
    base: '',
    port: 0,
    stateDir,
    contentDir,
    wranglerArgs,
    /** Everything wrangler printed, across restarts. */
    output: '',
    child: null,
    /** `blog sync` against this site's state and content: { code, stdout, stderr }. */
    sync: (args = [], options = {}) =>
      run(BLOG, ['sync', '--persist-to', stateDir, '--content', site.contentDir, ...args], options),
    /** `blog check` against this site's content. */
    check: (args = []) => run(BLOG, ['check', '--content', site.contentDir, ...args]),
    /** Stops the dev server and starts it again on the same port and state folder, optionally with other arguments. */
    restart: async ({ wranglerArgs: args } = {}) => {
      await stopServer(site);
      if (args) site.wranglerArgs = args;
      await startServer(site);
    },
    /** Stops the server and removes the temporary folders. Safe to call twice. */
    stop: async () => {
      await stopServer(site);
      for (const dir of tempDirs) await removeTemp(dir);
    },
    log: (tail = 4000) => site.output.slice(-tail),
    /** `wrangler kv ...` against this site's local KV. */
    kv: (args) => kv(stateDir, args),
  };

  try {
    // Sync first, then serve: workerd can die at start-up with `database is locked:
    // SQLITE_BUSY` when `wrangler kv` writes the same state folder at that moment.
    if (sync) {
      const result = await site.sync(syncArgs);
      if (result.code !== 0) {
        throw new Error(`blog sync failed (${result.code}):\n${result.stdout}${result.stderr}`);
      }
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
      detached: true, // its own process group, so workerd dies with it
    },
  );
  live.add(child.pid);
  site.child = child;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.exited = exited;
  exited.then((e) => {
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

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let early = null;
  exited.then((e) => (early = e));
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (early) {
      throw new Error(`wrangler dev exited (${JSON.stringify(early)}) before it was ready:\n${site.log()}`);
    }
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
  throw new Error(
    `wrangler dev was not ready after ${READY_TIMEOUT_MS / 1000} s (${last}); its output:\n${site.log()}`,
  );
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
  // workerd may outlive wrangler; make sure the whole group is gone either way.
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {}
  if (timedOut) await child.exited;
  live.delete(child.pid);
  // The port must be free again before anyone (restart) binds it.
  const port = site.port;
  for (let i = 0; i < 40; i++) {
    if (await portIsFree(port)) return;
    await sleep(250);
  }
}

/**
 * A request whose path goes on the wire exactly as written (fetch would normalise
 * `%2e%2e` segments away on the client), with `headers` as given (fetch sets its own
 * Host). Resolves { status, headers, body }.
 */
export function rawRequest(base, rawPath, { method = 'GET', headers = {}, timeoutMs = 15_000 } = {}) {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: rawPath, method, headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout: ${method} ${rawPath}`)));
    req.on('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------- page reading

const NAMED_ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Decodes HTML character references. */
export function decodeEntities(text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return String.fromCodePoint(code);
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/** The text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed. */
export function textOf(html) {
  return decodeEntities(html.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
}

/** Every match of a global regex, as match arrays. */
function all(re, text) {
  return [...text.matchAll(re)];
}

/**
 * Reads the index page into
 *   { h1, tagline, years: [{ year, posts: [{ href, title, summary, date, datetime }] }],
 *     popular: [{ href, title, date }], posts: [...all posts in page order] }
 * Throws (with the offending HTML) when the page does not have the expected structure.
 */
export function parseIndex(html) {
  const fail = (what) => {
    throw new Error(`index page: ${what}\n--- page ---\n${html}`);
  };
  const h1 = /<h1 id="writing">([\s\S]*?)<\/h1>/.exec(html) ?? fail('no <h1 id="writing">');
  const tagline = /<p class="tagline">([\s\S]*?)<\/p>/.exec(html) ?? fail('no <p class="tagline">');
  const writing = /<section class="writing"[^>]*>([\s\S]*?)<\/section>/.exec(html) ?? fail('no section.writing');
  const aside = /<aside class="popular"[^>]*>([\s\S]*?)<\/aside>/.exec(html) ?? fail('no aside.popular');

  const years = [];
  // Each year heading owns the <ul class="posts"> that follows it.
  for (const m of all(/<h2 class="year">([\s\S]*?)<\/h2>\s*<ul class="posts">([\s\S]*?)<\/ul>/g, writing[1])) {
    const posts = all(/<li class="post">([\s\S]*?)<\/li>/g, m[2]).map(([, li]) => {
      const a = /<h3><a href="([^"]*)">([\s\S]*?)<\/a><\/h3>/.exec(li) ?? fail(`post item without <h3><a>: ${li}`);
      const summary = /<p class="summary">([\s\S]*?)<\/p>/.exec(li) ?? fail(`post item without summary: ${li}`);
      const time = /<time datetime="([^"]*)">([\s\S]*?)<\/time>/.exec(li) ?? fail(`post item without <time>: ${li}`);
      return {
        href: decodeEntities(a[1]),
        title: textOf(a[2]),
        summary: textOf(summary[1]),
        datetime: time[1],
        date: textOf(time[2]),
      };
    });
    years.push({ year: textOf(m[1]), posts });
  }
  const yearHeadings = all(/<h2 class="year">/g, writing[1]).length;
  if (yearHeadings !== years.length) fail('a year heading without its list of posts');

  const popularHeading = /<h2 id="popular">([\s\S]*?)<\/h2>/.exec(aside[1]) ?? fail('no <h2 id="popular">');
  const ol = /<ol>([\s\S]*?)<\/ol>/.exec(aside[1]) ?? fail('no <ol> in Popular Reads');
  const popular = all(/<li>([\s\S]*?)<\/li>/g, ol[1]).map(([, li]) => {
    const a = /<a href="([^"]*)">([\s\S]*?)<\/a>/.exec(li) ?? fail(`popular item without link: ${li}`);
    const time = /<time datetime="([^"]*)">([\s\S]*?)<\/time>/.exec(li) ?? fail(`popular item without <time>: ${li}`);
    return { href: decodeEntities(a[1]), title: textOf(a[2]), datetime: time[1], date: textOf(time[2]) };
  });
  return {
    h1: textOf(h1[1]),
    tagline: textOf(tagline[1]),
    popularHeading: textOf(popularHeading[1]),
    years,
    posts: years.flatMap((y) => y.posts),
    popular,
  };
}

/**
 * Every post the archive lists, newest first, as { href, title, date, datetime }: `/archive`,
 * then every page of every year it links. The front page shows only the newest posts.
 */
export async function archivePosts(base) {
  const archive = await get(`${base}/archive`);
  if (archive.status !== 200) throw new Error(`GET /archive answered ${archive.status}`);
  const pages = [...new Set(all(/href="(\/\d{4}\/(?:page\/\d+\/)?)"/g, archive.body).map((m) => m[1]))];
  const posts = [];
  for (const page of pages) {
    const { status, body } = await get(`${base}${page}`);
    if (status !== 200) throw new Error(`GET ${page} (linked from /archive) answered ${status}`);
    for (const [, li] of all(/<li class="post">([\s\S]*?)<\/li>/g, body)) {
      const a = /<h2><a href="([^"]*)">([\s\S]*?)<\/a><\/h2>/.exec(li);
      const time = /<time datetime="([^"]*)">([\s\S]*?)<\/time>/.exec(li);
      if (!a || !time) throw new Error(`${page}: a post item without its link or date: ${li}`);
      posts.push({ href: decodeEntities(a[1]), title: textOf(a[2]), datetime: time[1], date: textOf(time[2]), page });
    }
  }
  return posts;
}

/**
 * Reads the seed (the plain text of the reference index page):
 * heading, tagline, then year lines each followed by title/summary/date triples,
 * then "Popular Reads" and title/date pairs.
 */
export async function readSeed(file = SEED) {
  const lines = (await fs.readFile(file, 'utf8'))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const DATE = /^[A-Z][a-z]{2} \d{1,2}, \d{4}$/;
  const bad = (i, why) => {
    throw new Error(`${file}: line ${i + 1} (${JSON.stringify(lines[i])}): ${why}`);
  };
  let i = 0;
  const heading = lines[i++];
  const tagline = lines[i++];
  const years = [];
  while (i < lines.length && lines[i] !== 'Popular Reads') {
    if (/^\d{4}$/.test(lines[i])) {
      years.push({ year: lines[i++], posts: [] });
      continue;
    }
    if (!years.length) bad(i, 'a post before any year heading');
    const [title, summary, date] = lines.slice(i, i + 3);
    if (!DATE.test(date ?? '')) bad(i + 2, 'expected the date of the post above');
    years.at(-1).posts.push({ title, summary, date });
    i += 3;
  }
  if (lines[i] !== 'Popular Reads') bad(i, 'expected "Popular Reads"');
  const popularHeading = lines[i++];
  const popular = [];
  while (i < lines.length) {
    const [title, date] = lines.slice(i, i + 2);
    if (!DATE.test(date ?? '')) bad(i + 1, 'expected the date of the popular post above');
    popular.push({ title, date });
    i += 2;
  }
  return { heading, tagline, years, posts: years.flatMap((y) => y.posts), popularHeading, popular };
}

// ---------------------------------------------------------------- small helpers

export async function get(url, init) {
  const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(15_000), ...init });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body, res };
}

export async function getIndex(site) {
  const { status, body } = await get(`${site.base}/`);
  if (status !== 200) throw new Error(`GET / answered ${status}\n${site.log()}`);
  return parseIndex(body);
}

/** Polls `probe` until it returns a truthy value; throws with `describe()` after `timeoutMs`. */
export async function waitFor(probe, { timeoutMs = 15_000, intervalMs = 100, describe = () => '' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (e) {
      lastError = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${await describe()}${lastError ? `\nlast error: ${lastError.stack}` : ''}`);
}

export { sleep };
