// `blog serve`, the loop behind `make dev`: a save syncs into local KV and reloads the pages
// open in Chromium; a burst of saves makes one sync; a broken save shows its problems in
// place of that post's page (and in the terminal) while the rest keeps its last good
// version, and the fix recovers by itself. The reload script is the local proxy's alone:
// the Worker and its deployed policy know nothing of it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BLOG, CONTENT, ROOT, freePort, startSite } from './harness.mjs';
import { cspDirectives, removeTemp, sleep, tempDir } from './support.mjs';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];
const SLUG = 'apple-native-container-cli';

let dir;
let serve;
let base;
let output = '';
let browser;

const file = () => path.join(dir, 'content', `${SLUG}.md`);
const syncs = () => output.split('\n').filter((l) => l.startsWith('synced in ')).length;

async function waitFor(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}; blog serve printed:\n${output.slice(-4000)}`);
}

before(async () => {
  dir = await tempDir('blog-serve-');
  await fs.cp(CONTENT, path.join(dir, 'content'), { recursive: true });
  await fs.copyFile(path.join(ROOT, 'site.toml'), path.join(dir, 'site.toml'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  serve = spawn(
    BLOG,
    [
      'serve',
      '--content', path.join(dir, 'content'),
      '--settings', path.join(dir, 'site.toml'),
      '--persist-to', path.join(dir, 'state'),
      '--port', String(port),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own group, with wrangler and workerd in it
    },
  );
  const append = (d) => (output += d);
  serve.stdout.setEncoding('utf8').on('data', append);
  serve.stderr.setEncoding('utf8').on('data', append);
  [browser] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true }),
    waitFor('blog serve to be ready', () => output.includes('Serving http://127.0.0.1:'), 180_000),
  ]);
});

after(async () => {
  await browser?.close();
  if (serve?.pid) {
    try {
      process.kill(-serve.pid, 'SIGTERM');
    } catch {}
    await sleep(500);
    try {
      process.kill(-serve.pid, 'SIGKILL');
    } catch {}
  }
  if (dir) {
    await removeTemp(dir);
    await fs.rm(`${path.join(dir, 'content')}.lock`, { force: true });
  }
});

/** A page open on `pathname`, recording console errors and counting its loads. */
async function open(pathname) {
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  const state = { loads: 0 };
  page.on('load', () => (state.loads += 1));
  await page.goto(`${base}${pathname}`);
  return { page, problems, state };
}

async function edit(change) {
  const text = await fs.readFile(file(), 'utf8');
  await fs.writeFile(file(), change(text));
}

test('pages served locally carry the reload script, allowed by a nonce of their own', async () => {
  const res = await fetch(`${base}/posts/${SLUG}`);
  assert.equal(res.status, 200);
  const html = await res.text();
  const csp = cspDirectives(res.headers.get('content-security-policy'));
  const nonce = /<script nonce="([0-9a-f]{32})">/.exec(html)?.[1];
  assert.ok(nonce, 'the page has the reload script');
  assert.deepEqual(csp['script-src'], [`'nonce-${nonce}'`], 'only that script may run');
  assert.deepEqual(csp['default-src'], ["'none'"]);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('etag'), null, 'no validator: a reload is always fresh');
  const again = await (await fetch(`${base}/posts/${SLUG}`)).text();
  assert.notEqual(/nonce="([0-9a-f]+)"/.exec(again)[1], nonce, 'a nonce per page');
  const css = await fetch(`${base}/style.css`);
  assert.equal(css.status, 200, 'other answers pass through');
  assert.doesNotMatch(await css.text(), /EventSource/);
});

test('a save syncs and reloads the open page (the time it took is printed)', async () => {
  const { page, problems, state } = await open(`/posts/${SLUG}`);
  await sleep(300); // the event stream is open
  const before = syncs();
  const loads = state.loads;
  const title = `Saved title ${Date.now()}`;
  const saved = Date.now();
  await edit((t) => t.replace(/^title = .*$/m, `title = "${title}"`));
  await waitFor('the page to reload with the new title', async () => state.loads > loads && (await page.title()).includes(title));
  const took = Date.now() - saved;
  console.log(`# save to reload in Chromium: ${took} ms (${output.match(/synced in \d+ ms/g)?.at(-1)})`);
  assert.equal(syncs(), before + 1, 'one sync');
  await sleep(1500);
  assert.equal(state.loads, loads + 1, 'reloaded once, not again and again');
  assert.deepEqual(problems, [], 'no console errors, no policy violations');
  await page.close();
});

test('a burst of saves makes one sync', async () => {
  const { page, state } = await open(`/posts/${SLUG}`);
  await sleep(300);
  const before = syncs();
  const loads = state.loads;
  for (let i = 0; i < 5; i++) {
    await edit((t) => t.replace(/^summary = .*$/m, `summary = "Burst ${i}."`));
    await sleep(20);
  }
  await waitFor('the reload', async () => state.loads > loads && (await page.content()).includes('Burst 4.'));
  await sleep(800);
  assert.equal(syncs(), before + 1, `five saves, one sync:\n${output.slice(-2000)}`);
  await page.close();
});

test('a broken save shows its problem in place of its page; the rest keeps its last good version; a fix recovers', async () => {
  const { page, problems, state } = await open(`/posts/${SLUG}`);
  const other = await open('/');
  await sleep(300);
  const good = await fs.readFile(file(), 'utf8');
  const goodTitle = await page.title();
  const line = good.split('\n').findIndex((l) => l.startsWith('date = ')) + 1;
  let loads = state.loads;
  await edit((t) => t.replace(/^date = .*$/m, 'date = "not a date"'));
  await waitFor('the problem page', async () => state.loads > loads && (await page.title()) === 'Sync failed');
  const where = `${path.join(dir, 'content', `${SLUG}.md`)}:${line}:`;
  const shown = await page.textContent('.problems');
  assert.ok(shown.includes(where), `the page names file and line (${where}): ${shown}`);
  assert.ok(output.includes(where), 'and so does the terminal');
  assert.match(output, /sync failed in \d+ ms/);
  const res = await fetch(`${base}/posts/${SLUG}`);
  assert.equal(res.status, 500);
  const home = await fetch(`${base}/`);
  assert.equal(home.status, 200, 'the rest of the site is served');
  await other.page.reload();
  assert.notEqual(await other.page.title(), 'Sync failed');
  const listed = await other.page.textContent('main');
  assert.ok(listed.includes(goodTitle.split(' · ')[0]), `the front page keeps the post's last good version: ${listed.slice(0, 400)}`);

  loads = state.loads;
  await fs.writeFile(file(), good);
  await waitFor('the post again', async () => state.loads > loads && (await page.title()) === goodTitle);
  const status500 = /status of 500/;
  assert.deepEqual(problems.filter((p) => !status500.test(p)), [], 'nothing but the problem page\'s own 500');
  await page.close();
  await other.page.close();
});

test('the reload mechanism stays local: the Worker and a plain wrangler dev know nothing of it', async () => {
  const js = await fs.readFile(path.join(ROOT, 'build/index.js'), 'utf8');
  const wasm = await fs.readFile(path.join(ROOT, 'build/index_bg.wasm'));
  for (const word of ['_blog/events', 'EventSource', 'nonce-']) {
    assert.ok(!js.includes(word) && !wasm.includes(word), `the Worker has no ${word}`);
  }
  const toml = await fs.readFile(path.join(ROOT, 'wrangler.toml'), 'utf8');
  assert.doesNotMatch(toml, /VERSION_RECHECK_MS/, 'the deployed Worker keeps its version window');
  const site = await startSite();
  try {
    const res = await fetch(`${site.base}/posts/${SLUG}`);
    const html = await res.text();
    assert.equal(res.status, 200);
    assert.doesNotMatch(html, /<script(?! type="application\/ld\+json")/, 'no script in a page as deployed (JSON-LD is data)');
    assert.doesNotMatch(html, /EventSource|_blog\/events/);
    const csp = cspDirectives(res.headers.get('content-security-policy'));
    assert.equal(csp['script-src'], undefined, 'and the policy allows none (default-src none)');
    assert.deepEqual(csp['default-src'], ["'none'"]);
  } finally {
    await site.stop();
  }
});
