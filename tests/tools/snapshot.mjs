// Everything a build of the blog puts out, written down so that two builds can be compared
// with `diff -r` (tests/tools/same-output.sh does that for two git revisions).
//
//   node tests/tools/snapshot.mjs ROOT OUTDIR
//
// ROOT is a checkout with a built Worker (ROOT/build/, made by worker-build) and the blog
// binary (ROOT/target/release/blog, or env BLOG_BIN). For each site (the project's content/
// alone, and content/ plus each of tests/fixtures/posts, hostile and images, copied into
// one folder as the e2e suites do) it
//   1. runs ROOT's `blog sync` into a fresh local KV (cwd ROOT, so ROOT's site.toml and
//      wrangler.toml are the ones used),
//   2. writes every KV record (key, value, metadata, expiration) to OUTDIR/<site>/kv/,
//   3. serves that KV with ROOT's `wrangler dev` and writes every response (status, headers,
//      body) to OUTDIR/<site>/http/, one file per request, and the requests in the order
//      they were made, with their statuses, to OUTDIR/<site>/requests.txt.
// Text is written as it is; binary values and bodies as their SHA-256 and length. Each KV
// record also carries the SHA-256 of its exact bytes, since JSON values are pretty-printed
// for readable diffs.
//
// What is left out, because it changes from one request or run to the next and not with the
// build: the `date` response header (wrangler dev adds no other per-request header: its
// responses carry only what the Worker sets, plus date and the transport's own). Paths of
// the temporary folders are fixed (under $TMPDIR/blog-snapshot/), so nothing differs by them;
// one snapshot runs at a time (a lock folder there says so).
//
// The clock. A page's Cache-Control lifetime is capped by the next scheduled post's time, so
// with a post dated in the future max-age depends on when one asks. Such posts are left out
// of the sites (listed in OUTDIR/<site>/left-out.txt) rather than any number normalised:
// a post is kept only if it was due an hour before "now" even in the earliest time zone a
// date without an offset may mean (UTC+14). "Now" is env SNAPSHOT_NOW (seconds since the
// epoch; same-output.sh fixes it once for both builds) or the time of the run. With no post
// scheduled, nothing a response carries depends on the clock: reads are never counted
// (requests use the non-browser User-Agent `snapshot/1`), so Popular Reads stays by date.
//
// Environment: BLOG_BIN (the blog binary), SNAPSHOT_SITES (comma-separated subset of
// content,posts,hostile,images), SNAPSHOT_NOW, SNAPSHOT_KEEP=1 (keep the temporary folders).

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync, rmSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { run } from '../e2e/harness.mjs';
import { freePort } from './ports.mjs';

const [rootArg, outArg] = process.argv.slice(2);
if (!rootArg || !outArg) {
  console.error('usage: node tests/tools/snapshot.mjs ROOT OUTDIR');
  process.exit(2);
}
const ROOT = path.resolve(rootArg);
const OUT = path.resolve(outArg);
const BLOG = path.resolve(process.env.BLOG_BIN ?? path.join(ROOT, 'target/release/blog'));
const WRANGLER = path.join(ROOT, 'node_modules/.bin/wrangler');
const UA = 'snapshot/1';
const NOW = Number(process.env.SNAPSHOT_NOW ?? Math.floor(Date.now() / 1000));
const WORK = path.join(os.tmpdir(), 'blog-snapshot');
const LOCK = path.join(os.tmpdir(), 'blog-snapshot.lock');
/** Response headers that change per request, not per build. */
const PER_REQUEST = new Set(['date']);
const READY_TIMEOUT_MS = 90_000;

const SITES = {
  content: [],
  posts: ['tests/fixtures/posts'],
  hostile: ['tests/fixtures/hostile'],
  images: ['tests/fixtures/images'],
};

for (const need of [path.join(ROOT, 'build/worker/shim.mjs'), BLOG, WRANGLER, path.join(ROOT, 'wrangler.toml')]) {
  if (!existsSync(need)) {
    console.error(`${need} is missing: ROOT needs a built Worker (worker-build --release), the blog binary and node_modules`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------- housekeeping

const live = new Set();
let locked = false;
process.on('exit', () => {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
  if (!locked) return;
  if (process.env.SNAPSHOT_KEEP !== '1') rmSync(WORK, { recursive: true, force: true });
  rmSync(LOCK, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));

async function takeLock() {
  for (;;) {
    try {
      await fs.mkdir(LOCK);
      locked = true;
      await fs.writeFile(path.join(LOCK, 'pid'), String(process.pid));
      return;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    let holder = NaN;
    try {
      holder = Number(await fs.readFile(path.join(LOCK, 'pid'), 'utf8'));
    } catch {}
    let alive = false;
    try {
      if (holder) alive = process.kill(holder, 0);
    } catch {}
    if (!alive && holder) {
      await fs.rm(LOCK, { recursive: true, force: true });
      continue;
    }
    console.error(`waiting for another snapshot (pid ${holder || '?'}) to finish`);
    await sleep(5000);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

/** A name for a file in OUTDIR: readable, one per key or request, within a name's length. */
function fileName(text) {
  const safe = text.replace(/[^A-Za-z0-9 ._~?=&,+;@:[\]()-]/gu, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
  if (Buffer.byteLength(safe) <= 200) return safe;
  return `${safe.slice(0, 160)}…${sha256(text).slice(0, 16)}`;
}

const TEXT_TYPE = /^(text\/|application\/([a-z.+-]*\+)?(json|xml|javascript|manifest\+json)\b|image\/svg\+xml)/i;

function isUtf8Text(bytes) {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- content

/**
 * A post's date from its front matter as seconds since the epoch, read the earliest it can
 * mean (a date or time without an offset is taken in UTC+14); null when there is none.
 */
function earliestDate(text) {
  const front = /^\+\+\+\r?\n([\s\S]*?)\r?\n\+\+\+/.exec(text)?.[1] ?? '';
  const m = /^date\s*=\s*"?(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z|[+-]\d{2}:\d{2})?"?\s*$/m.exec(front);
  if (!m) return null;
  const [, day, time = '00:00:00', offset] = m;
  const t = Date.parse(`${day}T${time.length === 5 ? `${time}:00` : time}${offset ?? '+14:00'}`);
  return Number.isNaN(t) ? null : Math.floor(t / 1000);
}

/** Copies content/ and a site's fixtures into `dir`, leaving out posts not yet due. */
async function makeContent(dir, fixtures) {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.cp(path.join(ROOT, 'content'), dir, { recursive: true });
  for (const f of fixtures) await fs.cp(path.join(ROOT, f), dir, { recursive: true });
  const leftOut = [];
  for (const name of (await fs.readdir(dir)).sort()) {
    if (!name.endsWith('.md')) continue;
    const file = path.join(dir, name);
    const date = earliestDate(await fs.readFile(file, 'utf8'));
    if (date !== null && date > NOW - 3600) {
      leftOut.push(`${name} (dated ${new Date(date * 1000).toISOString()} at the earliest)`);
      await fs.rm(file);
    }
  }
  return leftOut;
}

/** Aliases written in the posts' front matter. */
async function frontMatterAliases(dir) {
  const out = [];
  for (const name of await fs.readdir(dir)) {
    if (!name.endsWith('.md')) continue;
    const text = await fs.readFile(path.join(dir, name), 'utf8');
    const list = /^aliases\s*=\s*\[([^\]]*)\]/m.exec(text)?.[1] ?? '';
    for (const [, a] of list.matchAll(/"((?:[^"\\]|\\.)*)"/g)) out.push(JSON.parse(`"${a}"`));
  }
  return out;
}

// ---------------------------------------------------------------- KV

function namespaceId() {
  const text = readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8');
  for (const block of text.split(/^\[\[kv_namespaces\]\]/m).slice(1)) {
    const body = block.split(/^\[/m)[0];
    if (/^binding\s*=\s*"POSTS"/m.test(body)) {
      const id = /^id\s*=\s*"([^"]+)"/m.exec(body)?.[1];
      if (id) return id;
    }
  }
  throw new Error('wrangler.toml has no [[kv_namespaces]] with binding = "POSTS" and an id');
}

/** Every record of the local KV in `stateDir`: [{ name, metadata, expiration, bytes }]. */
async function readKv(stateDir) {
  // ROOT's Miniflare, with the options wrangler's local KV commands use (tools/local-kv.mjs).
  const require = createRequire(path.join(ROOT, 'package.json'));
  const { Miniflare } = await import(pathToFileURL(require.resolve('miniflare')).href);
  const mf = new Miniflare({
    script: 'addEventListener("fetch", (e) => e.respondWith(new Response(null, { status: 404 })))',
    defaultPersistRoot: path.join(stateDir, 'v3'),
    kvNamespaces: { NAMESPACE: namespaceId() },
  });
  try {
    const kv = await mf.getKVNamespace('NAMESPACE');
    const keys = [];
    let cursor;
    do {
      const page = await kv.list({ cursor });
      keys.push(...page.keys);
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
    const records = [];
    for (const key of keys) {
      const value = await kv.get(key.name, { type: 'arrayBuffer' });
      records.push({ ...key, bytes: Buffer.from(value ?? new ArrayBuffer(0)), missing: value === null });
    }
    return records.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } finally {
    await mf.dispose();
  }
}

function kvText(record) {
  const lines = [
    `key: ${record.name}`,
    `metadata: ${JSON.stringify(record.metadata ?? null)}`,
    `expiration: ${record.expiration ?? 'none'}`,
    `bytes: ${record.bytes.length}${record.missing ? ' (listed, but get found no value)' : ''}`,
    `sha256: ${sha256(record.bytes)}`,
    '',
  ];
  if (!isUtf8Text(record.bytes)) return `${lines.join('\n')}(binary)\n`;
  const text = record.bytes.toString('utf8');
  let shown = text;
  try {
    shown = `${JSON.stringify(JSON.parse(text), null, 2)}\n(JSON, pretty-printed; the sha256 above is of the bytes as stored)`;
  } catch {}
  return `${lines.join('\n')}${shown}\n`;
}

// ---------------------------------------------------------------- the server

/** ROOT's wrangler.toml without its [build] table (which would run `make build`), main made absolute. */
async function serverConfig(dir) {
  const text = await fs.readFile(path.join(ROOT, 'wrangler.toml'), 'utf8');
  const out = [];
  let skipping = false;
  for (const line of text.split('\n')) {
    const header = /^\s*\[\[?([^\]]+)\]\]?/.exec(line);
    if (header) skipping = header[1].trim() === 'build' || header[1].trim().startsWith('build.');
    if (skipping) continue;
    const main = /^main\s*=\s*"([^"]+)"/.exec(line);
    out.push(main ? `main = ${JSON.stringify(path.join(ROOT, main[1]))}` : line);
  }
  const file = path.join(dir, 'wrangler.toml');
  await fs.writeFile(file, out.join('\n'));
  return file;
}

async function startServer(configDir, stateDir) {
  const config = await serverConfig(configDir);
  const port = await freePort();
  const inspectorPort = await freePort();
  const child = spawn(
    WRANGLER,
    [
      'dev',
      '--config', config,
      '--ip', '127.0.0.1',
      '--port', String(port),
      '--inspector-port', String(inspectorPort),
      '--persist-to', stateDir,
      '--show-interactive-dev-session=false',
    ],
    {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so workerd goes with it
    },
  );
  live.add(child.pid);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (output += d));
  let exited = null;
  const done = new Promise((resolve) => child.on('exit', (code, signal) => resolve((exited = { code, signal }))));
  const server = {
    port,
    log: () => output.slice(-6000),
    stop: async () => {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {}
      await Promise.race([done, sleep(10_000)]);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
      live.delete(child.pid);
    },
  };
  // Ready when /style.css answers (as the e2e harness waits): it needs no KV.
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`wrangler dev exited (${JSON.stringify(exited)}) before it was ready:\n${server.log()}`);
    try {
      const res = await request(port, 'GET', '/style.css');
      if (res.status === 200) return server;
    } catch {}
    await sleep(250);
  }
  await server.stop();
  throw new Error(`wrangler dev was not ready after ${READY_TIMEOUT_MS / 1000} s:\n${server.log()}`);
}

/** One request, its path on the wire as written. Resolves { status, headers: [[name, value]], body }. */
function request(port, method, rawPath, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: rawPath, method, headers: { 'user-agent': UA, ...headers }, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => {
          const pairs = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
          resolve({ status: res.statusCode, headers: pairs, body: Buffer.concat(chunks) });
        });
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error(`timeout: ${method} ${rawPath}`)));
    req.on('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------- one site

async function snapshotSite(name, fixtures) {
  const siteOut = path.join(OUT, name);
  const siteWork = path.join(WORK, name);
  const contentDir = path.join(siteWork, 'content');
  const stateDir = path.join(siteWork, 'state');
  await fs.rm(siteWork, { recursive: true, force: true });
  await fs.mkdir(stateDir, { recursive: true });
  await fs.mkdir(path.join(siteOut, 'kv'), { recursive: true });
  await fs.mkdir(path.join(siteOut, 'http'), { recursive: true });

  const leftOut = await makeContent(contentDir, fixtures);
  await fs.writeFile(path.join(siteOut, 'left-out.txt'), leftOut.length ? `${leftOut.join('\n')}\n` : '(none)\n');

  // 1. sync
  const sync = await run(BLOG, ['sync', '--persist-to', stateDir, '--content', contentDir], { cwd: ROOT });
  const paths = (s) => s.replaceAll(contentDir, '$CONTENT').replaceAll(stateDir, '$STATE');
  await fs.writeFile(path.join(siteOut, 'sync.txt'), `exit: ${sync.code}\n--- stdout\n${paths(sync.stdout)}`);
  if (sync.code !== 0) throw new Error(`${name}: blog sync failed (${sync.code}):\n${sync.stdout}${sync.stderr}`);

  // 2. KV
  const records = await readKv(stateDir);
  const names = new Set();
  for (const r of records) {
    let file = fileName(r.name);
    while (names.has(file)) file += '+';
    names.add(file);
    await fs.writeFile(path.join(siteOut, 'kv', file), kvText(r));
  }
  let index = null;
  try {
    index = JSON.parse(records.find((r) => r.name === 'index')?.bytes.toString('utf8'));
  } catch {}

  // 3. responses
  const server = await startServer(siteWork, stateDir);
  const log = [];
  const seen = new Set();
  const bodies = new Map();
  let responses = 0;
  const ask = async (method, rawPath, { headers = {}, variant = '' } = {}) => {
    // As a browser sends a link's path: what is not printable ASCII, percent-encoded as UTF-8.
    rawPath = rawPath.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
    const label = `${method} ${rawPath}${variant ? ` [${variant}]` : ''}`;
    if (seen.has(label)) return null;
    seen.add(label);
    let res;
    try {
      res = await request(server.port, method, rawPath, headers);
    } catch (e) {
      throw new Error(`${name}: ${label}: ${e.message}\n${server.log()}`);
    }
    responses++;
    const type = res.headers.find(([h]) => h === 'content-type')?.[1] ?? '';
    const text = res.body.length === 0 || (TEXT_TYPE.test(type) && isUtf8Text(res.body));
    const kept = res.headers.filter(([h]) => !PER_REQUEST.has(h)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const lines = [
      label,
      ...Object.entries(headers).map(([h, v]) => `> ${h}: ${v}`),
      '',
      `status: ${res.status}`,
      ...kept.map(([h, v]) => `${h}: ${v}`),
      '',
      text ? res.body.toString('utf8') : `(binary) ${res.body.length} bytes, sha256 ${sha256(res.body)}\n`,
    ];
    await fs.writeFile(path.join(siteOut, 'http', fileName(label)), lines.join('\n'));
    log.push(`${res.status} ${label}`);
    if (text && method === 'GET' && res.status === 200) bodies.set(rawPath, res.body.toString('utf8'));
    return { ...res, header: (h) => res.headers.find(([n]) => n === h)?.[1] ?? null, text: text ? res.body.toString('utf8') : '' };
  };

  /** Asks for a page, then again with the validators it gave (304 expected), then again plainly. */
  const page = async (rawPath, { again = false } = {}) => {
    const res = await ask('GET', rawPath);
    if (!res || res.status !== 200) return res;
    const etag = res.header('etag');
    if (etag) await ask('GET', rawPath, { headers: { 'if-none-match': etag }, variant: 'if-none-match' });
    const modified = res.header('last-modified');
    if (modified) await ask('GET', rawPath, { headers: { 'if-modified-since': modified }, variant: 'if-modified-since' });
    if (again) await ask('GET', rawPath, { variant: 'again' });
    return res;
  };

  const base = (index?.settings?.base_url ?? '').replace(/\/$/, '');
  /** Every path on this site a body names: href/src attributes, absolute links under base_url, /files/ URLs. */
  const linksIn = (text) => {
    const found = new Set();
    const add = (u) => {
      let p = decodeEntities(u);
      if (base && p.startsWith(base)) p = p.slice(base.length) || '/';
      if (!p.startsWith('/') || p.startsWith('//')) return;
      p = p.replace(/#.*$/, '');
      if (p) found.add(p);
    };
    for (const [, u] of text.matchAll(/\b(?:href|src|content)="([^"]*)"/g)) add(u);
    for (const [, u] of text.matchAll(/"(?:url|id|external_url|image|banner_image|src|start_url|href)"\s*:\s*"([^"]*)"/g)) add(u);
    for (const [, u] of text.matchAll(/<(?:loc|link|id|uri)>([^<]*)<\//g)) add(u);
    for (const [u] of text.matchAll(/\/files\/[0-9a-f]{32}\.[a-z0-9]{1,5}/g)) add(u);
    return [...found];
  };

  const home = await page('/', { again: true });
  const slugs = new Set();
  for (const [, s] of (home?.text ?? '').matchAll(/href="\/posts\/([^"/#?]+)"/g)) slugs.add(s);
  for (const p of index?.posts ?? []) if (p.slug) slugs.add(encodeURIComponent(p.slug));
  for (const f of await fs.readdir(contentDir)) if (f.endsWith('.md')) slugs.add(encodeURIComponent(f.slice(0, -3)));
  const posts = [...slugs].sort();
  for (const s of posts) await page(`/posts/${s}`, { again: true });

  const tags = await page('/tags', { again: true });
  const tagSlugs = [...new Set([...(tags?.text ?? '').matchAll(/href="\/tags\/([^"/#?]+)"/g)].map((m) => m[1]))].sort();
  for (const t of tagSlugs) {
    await page(`/tags/${t}`);
    await page(`/tags/${t}/feed.xml`);
    await ask('GET', `/tags/${t}/`);
  }

  for (const p of ['/feed.xml', '/atom.xml', '/rss.xml', '/feed.json', '/sitemap.xml', '/robots.txt']) await page(p);
  for (const p of ['/site.webmanifest', '/style.css', '/favicon.svg']) await page(p);
  await ask('GET', '/favicon.ico');
  // The versioned links the pages carry (?v=...), and anything the manifest links.
  for (const p of [...bodies.keys()].flatMap((k) => linksIn(bodies.get(k))).filter((p) => /^\/(site\.webmanifest|style\.css|favicon\.svg)\?/.test(p)).sort()) {
    await page(p);
  }

  for (const s of posts) await ask('GET', `/posts/${s}/reads.svg`);

  // Redirects, and the paths that are not pages.
  for (const s of posts) await ask('GET', `/posts/${s}/`);
  for (const p of ['/index.html', '/posts', '/posts/', '/tags/']) await ask('GET', p);
  const aliases = new Set(await frontMatterAliases(contentDir));
  for (const p of index?.posts ?? []) for (const a of p.aliases ?? []) aliases.add(a);
  for (const a of [...aliases].sort()) await ask('GET', encodeURI(a));
  for (const p of ['/no-such-page', '/posts/no-such-post', '/posts/no-such-post/reads.svg', '/tags/no-such-tag', `/files/${'0'.repeat(32)}.png`]) {
    await ask('GET', p);
  }
  await ask('POST', '/');
  if (posts[0]) await ask('POST', `/posts/${posts[0]}`);
  await ask('HEAD', '/');
  for (const s of posts) await ask('HEAD', `/posts/${s}`);

  // Every other path a page, feed or manifest names (files, neighbours, anchors' pages...).
  for (let round = 0; round < 5; round++) {
    const next = [...new Set([...bodies.values()].flatMap(linksIn))].filter((p) => !seen.has(`GET ${p}`)).sort();
    if (!next.length) break;
    for (const p of next) await page(p);
  }

  await server.stop();
  await fs.writeFile(path.join(siteOut, 'requests.txt'), `${log.join('\n')}\n`);
  return { records: records.length, responses, leftOut: leftOut.length };
}

const NAMED = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function decodeEntities(text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref) => {
    if (ref[0] === '#') return String.fromCodePoint(ref[1].toLowerCase() === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10));
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

// ---------------------------------------------------------------- main

await takeLock();
await fs.rm(OUT, { recursive: true, force: true });
await fs.mkdir(OUT, { recursive: true });
const only = process.env.SNAPSHOT_SITES?.split(',').filter(Boolean);
const summary = [];
for (const [name, fixtures] of Object.entries(SITES)) {
  if (only && !only.includes(name)) continue;
  const started = Date.now();
  const s = await snapshotSite(name, fixtures);
  const line = `${name}: ${s.records} KV records, ${s.responses} responses, ${s.leftOut} posts left out`;
  summary.push(line);
  console.error(`${line} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
await fs.writeFile(path.join(OUT, 'SUMMARY.txt'), `${summary.join('\n')}\n`);
