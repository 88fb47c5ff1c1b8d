// A sync that dies half-way never breaks the site. 400 generated posts; round after round,
// some are edited (title and body both carry a version marker) and `blog sync` is killed
// (SIGKILL to its whole process group, wrangler included) at a different stage each time.
// After every kill the live site must be consistent: every post the index and the feed list
// answers 200, and every page shows one version of its post, title and body alike. Then a
// wrangler that fails or hangs: sync stops with a message that says to re-run, the site stays
// consistent, and a re-run with the real wrangler publishes exactly the content on disk.
//
// Random choices come from SEED (printed; set it to replay a run).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BLOG, ROOT, archivePosts, get, parseIndex, textOf } from './harness.mjs';
import { removeTemp, sleep, startSite, tempDir } from './support.mjs';
import { rng } from '../tools/load.mjs';

const FLAKY = path.join(ROOT, 'tests/tools/flaky-kv.mjs');
const POSTS = 400;
const SEED = Number(process.env.SEED ?? Date.now() % 1_000_000);
console.log(`sync-interrupted: SEED=${SEED}`);

const random = rng(SEED);
const between = (lo, hi) => Math.round(lo + random() * (hi - lo));
function sample(items, n) {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, n);
}

// ---------------------------------------------------------------- the content on disk

const slugOf = (i) => `p-${String(i).padStart(3, '0')}`;
const titleOf = (i, v) => `Post ${i} · version ${v}`;
const TITLE = /^Post (\d+) · version (\d+)$/;
const MARKER = /version-marker: (p-\d{3}) v(\d+)\b/g;

function postFile(i, v) {
  const slug = slugOf(i);
  const date = new Date(Date.UTC(2025, 0, 1) + i * 3600_000).toISOString().replace('.000Z', 'Z');
  const paragraphs = Array.from(
    { length: 6 },
    (_, p) => `Paragraph ${p} of ${slug}, version-marker: ${slug} v${v}. ` + 'Some words to make the post a few kilobytes long. '.repeat(8),
  );
  const code = i % 10 === 0 ? `\n\n\`\`\`rust\nfn main() { println!("${slug} v${v}"); }\n\`\`\`` : '';
  return `+++\ntitle = "${titleOf(i, v)}"\ndate = ${date}\nsummary = "Summary of ${slug}."\ntags = ["generated"]\n+++\n\n${paragraphs.join('\n\n')}${code}\n`;
}

let site;
let contentDir;
/** slug -> every version number that was ever on disk. */
const versions = new Map();
/** slug -> the version on disk now (absent once deleted). */
const current = new Map();
let nextNumber = POSTS;
/** The shortest time each wrangler call (by its place in a sync) has taken so far, in ms. */
const shortest = {};
function learn(calls) {
  for (const c of calls) if (c.end !== undefined && c.status === 0) shortest[c.n] = Math.min(shortest[c.n] ?? Infinity, c.end - c.start);
}

async function write(i, v) {
  const slug = slugOf(i);
  await fs.writeFile(path.join(contentDir, `${slug}.md`), postFile(i, v));
  if (!versions.has(slug)) versions.set(slug, new Set());
  versions.get(slug).add(v);
  current.set(slug, v);
}

async function editSome(n) {
  const edited = sample([...current.keys()], n);
  for (const slug of edited) {
    const i = Number(slug.slice(2));
    await write(i, Math.max(...versions.get(slug)) + 1);
  }
  return edited;
}

async function removeSome(n) {
  const gone = sample([...current.keys()], n);
  for (const slug of gone) {
    await fs.rm(path.join(contentDir, `${slug}.md`));
    current.delete(slug);
  }
  return gone;
}

async function addSome(n) {
  for (let k = 0; k < n; k++) await write(nextNumber++, 0);
}

// ---------------------------------------------------------------- running and killing sync

/**
 * Starts `blog sync` in its own process group, with wrangler behind the logging wrapper
 * (`env` configures it) or, with `env = null`, the real wrangler.
 * Returns { child, done (resolves { code, signal, ms }), out(), calls() }.
 */
async function startSync(env = {}) {
  const state = await tempDir('blog-e2e-flaky-');
  const wrapper = env ? { BLOG_NODE: FLAKY, FLAKY_STATE: state, ...env } : {};
  const { BLOG_WRANGLER, BLOG_NODE, ...inherited } = process.env;
  const child = spawn(BLOG, ['sync', '--persist-to', site.stateDir, '--content', contentDir], {
    cwd: ROOT,
    env: { ...inherited, WRANGLER_SEND_METRICS: 'false', ...wrapper },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const started = Date.now();
  const done = new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, ms: Date.now() - started })),
  );
  const calls = async () => {
    const log = await fs.readFile(path.join(state, 'log'), 'utf8').catch(() => '');
    const list = [];
    for (const line of log.split('\n').filter(Boolean)) {
      const [at, what, n, ...rest] = line.split(' ');
      if (what === 'start') list[n - 1] = { n: Number(n), start: Number(at) - started, args: rest.join(' ') };
      else if (list[n - 1]) Object.assign(list[n - 1], { end: Number(at) - started, status: Number(rest[0]) });
    }
    return list;
  };
  return { child, done, started, state, out: () => stdout + stderr, calls };
}

/** What a wrangler call does, from its arguments and place in the sync. */
function callName(call, calls) {
  if (call.args.startsWith('kv key list')) return 'listing keys';
  if (call.args.startsWith('kv bulk delete')) return 'deleting removed posts';
  // Every round edits posts, so the puts come in this order (one batch of posts each time).
  const puts = calls.filter((c) => c.args.startsWith('kv bulk put'));
  return ['writing posts', 'writing the index', 'writing the version key'][puts.indexOf(call)] ?? 'writing more';
}

/** The stage a sync was in, from its wrangler log. */
function stageOf(calls, out) {
  if (!calls.length) return /Syncing/.test(out) ? 'preparing records' : 'validating content';
  const last = calls.at(-1);
  const name = callName(last, calls);
  return last.end === undefined ? `inside a KV call: ${name}` : `after ${name}, before the next call`;
}

/** Processes of a group that still run (zombies, dead but not yet reaped, do not count). */
function aliveInGroup(pgid) {
  const ps = execFileSync('ps', ['-eo', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, g, stat]) => Number(g) === pgid && stat && !stat.startsWith('Z'))
    .map((f) => `${f[0]} ${f.slice(3).join(' ')}`);
}

/**
 * SIGKILLs the sync's whole process group and waits until no member runs. Once blog has
 * exited and its group is empty, the number may belong to someone else: then nothing is sent.
 */
async function killGroup(run) {
  const running = run.child.exitCode === null && run.child.signalCode === null;
  if (running || aliveInGroup(run.child.pid).length) {
    try {
      process.kill(-run.child.pid, 'SIGKILL');
    } catch {}
  }
  await run.done;
  for (let i = 0; i < 100 && aliveInGroup(run.child.pid).length; i++) await sleep(50);
  assert.deepEqual(aliveInGroup(run.child.pid), [], 'a process of the killed sync is still running');
  for (const kind of ['put', 'delete']) {
    await fs.rm(path.join(os.tmpdir(), `blog-sync-${kind}-${run.child.pid}.json`), { force: true });
  }
}

async function waitForCall(run, n) {
  while (true) {
    const calls = await run.calls();
    if (calls[n - 1]) return calls[n - 1];
    if (run.child.exitCode !== null || run.child.signalCode !== null) return null;
    await sleep(15);
  }
}

// ---------------------------------------------------------------- checking the live site

/** The end of the dev server's output without the routine lines of successful requests. */
function serverLog() {
  const died = site.died ? `the dev server exited: ${JSON.stringify(site.died)}\n` : '';
  return died + site.output
    .split('\n')
    .filter((l) => !/\[wrangler:info\] (GET|HEAD) \S+ (200|301|304|404) /.test(l))
    .join('\n')
    .slice(-6000);
}

/** Fetches many paths, `width` at a time. */
async function getAll(paths, width = 12) {
  const results = new Map();
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < paths.length) {
        const p = paths[next++];
        results.set(p, await get(`${site.base}${p}`));
      }
    }),
  );
  return results;
}

/** The version a title names, after checking it names a version of `slug` that existed. */
function versionOfTitle(slug, title, where) {
  const m = TITLE.exec(title);
  assert.ok(m, `${where}: a title that is no generated title: ${JSON.stringify(title)}`);
  assert.equal(slugOf(Number(m[1])), slug, `${where}: the title of another post: ${title}`);
  const v = Number(m[2]);
  assert.ok(versions.get(slug)?.has(v), `${where}: version ${v} of ${slug} never existed`);
  return v;
}

/** Every version marker in some HTML must name `slug` at version `v`; returns how many. */
function assertMarkers(html, slug, v, where) {
  const found = [...html.matchAll(MARKER)].map((m) => `${m[1]} v${m[2]}`);
  assert.ok(found.length > 0, `${where}: no version marker in the body`);
  const other = found.filter((f) => f !== `${slug} v${v}`);
  assert.deepEqual(other, [], `${where}: the title is ${slug} v${v} but the body has ${[...new Set(other)].join(', ')}`);
}

/**
 * The site as readers see it must be consistent. With `exact`, it must also show exactly the
 * content on disk. Returns a summary for the log.
 */
async function checkSite(label, { exact = false } = {}) {
  const home = await get(`${site.base}/`);
  assert.equal(home.status, 200, `${label}: GET / answered ${home.status}\n${serverLog()}`);
  // The front page shows the newest posts; the archive's pages list every one.
  parseIndex(home.body);
  const listed = await archivePosts(site.base);
  const slugs = listed.map((p) => {
    assert.match(p.href, /^\/posts\/p-\d{3}$/, `${label}: index links ${p.href}`);
    const slug = p.href.slice('/posts/'.length);
    versionOfTitle(slug, p.title, `${label}: index entry ${slug}`);
    return slug;
  });
  assert.equal(new Set(slugs).size, slugs.length, `${label}: the index lists a post twice`);

  const feed = await get(`${site.base}/feed.json`);
  assert.equal(feed.status, 200, `${label}: /feed.json answered ${feed.status}`);
  const items = JSON.parse(feed.body).items;
  assert.ok(items.length > 0, `${label}: an empty feed`);
  for (const item of items) {
    const slug = new URL(item.url).pathname.slice('/posts/'.length);
    const v = versionOfTitle(slug, item.title, `${label}: feed item ${slug}`);
    assertMarkers(item.content_html, slug, v, `${label}: feed item ${slug}`);
  }
  const atom = await get(`${site.base}/feed.xml`);
  assert.equal(atom.status, 200, `${label}: /feed.xml answered ${atom.status}`);
  const atomLinks = [...atom.body.matchAll(/<link rel="alternate" type="text\/html" href="https?:\/\/[^/"]+(\/posts\/[^"]+)"/g)].map((m) => m[1]);
  assert.ok(atomLinks.length > 0, `${label}: no entries in /feed.xml`);

  const paths = [...new Set([...slugs.map((s) => `/posts/${s}`), ...atomLinks, ...items.map((i) => new URL(i.url).pathname)])];
  const pages = await getAll(paths);
  const shown = new Map();
  for (const [p, page] of pages) {
    const slug = p.slice('/posts/'.length);
    assert.equal(page.status, 200, `${label}: GET ${p} answered ${page.status}, but the site links it\n${serverLog()}`);
    const h1 = /<h1>([\s\S]*?)<\/h1>/.exec(page.body);
    assert.ok(h1, `${label}: ${p} has no <h1>`);
    const v = versionOfTitle(slug, textOf(h1[1]), `${label}: ${p}`);
    const body = /<div class="body">([\s\S]*?)<\/div>\s*<footer>/.exec(page.body)?.[1] ?? '';
    assertMarkers(body, slug, v, `${label}: ${p}`);
    shown.set(slug, v);
  }

  if (exact) {
    assert.deepEqual([...slugs].sort(), [...current.keys()].sort(), `${label}: the index does not list exactly the posts on disk`);
    for (const p of listed) {
      const slug = p.href.slice('/posts/'.length);
      assert.equal(p.title, titleOf(Number(slug.slice(2)), current.get(slug)), `${label}: index title of ${slug}`);
    }
    for (const [slug, v] of shown) assert.equal(v, current.get(slug), `${label}: /posts/${slug} shows version ${v}, the file has ${current.get(slug)}`);
    for (const item of items) {
      const slug = new URL(item.url).pathname.slice('/posts/'.length);
      assert.equal(item.title, titleOf(Number(slug.slice(2)), current.get(slug)), `${label}: feed title of ${slug}`);
    }
  }
  const ahead = [...shown].filter(([slug, v]) => {
    const entry = listed.find((p) => p.href === `/posts/${slug}`);
    return entry && versionOfTitle(slug, entry.title, label) !== v;
  }).length;
  return `${slugs.length} listed, ${pages.size} pages checked, ${ahead} pages newer than their index entry`;
}

// ---------------------------------------------------------------- the tests

before(async () => {
  contentDir = await tempDir('blog-e2e-many-');
  for (let i = 0; i < POSTS; i++) await write(i, 0);
  // The first sync goes through the logging wrapper too, to learn how long each call takes.
  site = await startSite({
    contentDir,
    sync: false,
    beforeStart: async (s) => {
      site = s;
      const run = await startSync();
      const { code } = await run.done;
      assert.equal(code, 0, run.out());
      learn(await run.calls());
    },
  });
  console.log(`  wrangler calls of the first sync (ms): ${JSON.stringify(shortest)}`);
});

after(async () => {
  await site?.stop();
  await removeTemp(contentDir);
});

describe('a sync killed at any stage leaves a consistent site', () => {
  const stages = [];

  test('the generated site starts consistent and complete', async () => {
    console.log(`  start: ${await checkSite('start', { exact: true })}`);
  });

  /**
   * One round: edit some posts (and add or remove some), start a sync, kill it at the
   * target, check the site. A target is a plain delay (`at`), or a point inside KV
   * call N: once the call has started, a random fraction of the shortest time that call
   * has taken so far (most of a call is wrangler starting up, so early and late points
   * differ). Returns the stage the kill landed in.
   */
  async function killRound(label, { at, call, frac, add, remove }) {
    const edited = await editSome(between(20, 80));
    if (add) await addSome(add);
    if (remove) await removeSome(remove);
    const run = await startSync();
    if (at) {
      await sleep(at());
    } else {
      const started = await waitForCall(run, call);
      assert.ok(started, `the sync ended before KV call ${call}:\n${run.out()}`);
      const [lo, hi] = frac;
      await sleep((shortest[call] ?? 800) * (lo + random() * (hi - lo)));
    }
    const calls = await run.calls();
    const stage = stageOf(calls, run.out());
    const finished = run.child.exitCode !== null;
    const killedAfter = Date.now() - run.started;
    await killGroup(run);
    learn(await run.calls());
    const summary = await checkSite(`${label} (${stage})`);
    stages.push(finished ? 'completed before the kill' : stage);
    const progress = run.out().trim().split('\n').slice(-2).join(' | ');
    console.log(
      `  ${label}: ${edited.length} edited${add ? `, ${add} added` : ''}${remove ? `, ${remove} removed` : ''};` +
        ` killed after ${killedAfter} ms, ${finished ? 'too late: the sync had finished' : stage}; output so far: ${progress || '(none)'}; ${summary}`,
    );
    return stage;
  }

  const ROUNDS = [
    { target: 'before wrangler', at: () => between(5, 40) },
    { target: 'inside call 1', call: 1, frac: [0.05, 0.8] },
    { target: 'inside call 2, early', call: 2, frac: [0.05, 0.4], add: 2 },
    { target: 'inside call 2, late', call: 2, frac: [0.5, 0.95] },
    { target: 'as soon as call 3 starts (posts written, index not)', call: 3, frac: [0, 0.01] },
    { target: 'inside call 3', call: 3, frac: [0.2, 0.95] },
    { target: 'inside call 4', call: 4, frac: [0.05, 0.8] },
    // Deleting a few keys is quick: two tries, early and later.
    { target: 'inside call 5 (deletions), early', call: 5, frac: [0.05, 0.3], remove: 5 },
    { target: 'inside call 5 (deletions)', call: 5, frac: [0.3, 0.9], remove: 3 },
    { target: 'random 200-4000 ms', at: () => between(200, 4000) },
    { target: 'random 200-4000 ms', at: () => between(200, 4000) },
  ];
  for (const [r, round] of ROUNDS.entries()) {
    test(`round ${r + 1}: kill ${round.target}`, () => killRound(`round ${r + 1}`, round));
  }

  test('the kills landed at six or more different stages', async () => {
    // Wrangler's speed varies with the machine: a stage that no kill reached yet gets up to
    // six more tries, each aimed early in its call.
    const TARGETS = {
      'validating content': { at: () => between(5, 40) },
      'inside a KV call: listing keys': { call: 1, frac: [0.05, 0.5] },
      'inside a KV call: writing posts': { call: 2, frac: [0.05, 0.5] },
      'inside a KV call: writing the index': { call: 3, frac: [0.05, 0.5] },
      'inside a KV call: writing the version key': { call: 4, frac: [0.05, 0.5] },
      'inside a KV call: deleting removed posts': { call: 5, frac: [0.05, 0.4], remove: 2 },
    };
    const distinct = () => new Set(stages.filter((s) => s !== 'completed before the kill'));
    for (let extra = 1; distinct().size < 6 && extra <= 6; extra++) {
      const missing = Object.keys(TARGETS).find((s) => !distinct().has(s));
      await killRound(`extra round ${extra} (for ${missing})`, TARGETS[missing]);
    }
    console.log(`  stages: ${[...distinct()].join('; ')}`);
    assert.ok(distinct().size >= 6, `only ${distinct().size} stages: ${stages.join('; ')}`);
  });

  test('a normal sync then publishes exactly the content on disk', async () => {
    const run = await startSync(null);
    const { code } = await run.done;
    assert.equal(code, 0, run.out());
    // The last kill may have come once every write was done (in the settle, say): then
    // there is nothing left to write, and the site must already be whole; or once the
    // version key was written, before the files no post uses any more (stale social cards)
    // were deleted: then only those deletions are left.
    assert.match(run.out(), /index\s+written|Nothing to write\.|^0 files added, [1-9]\d* removed/m);
    console.log(`  final: ${await checkSite('final', { exact: true })}`);
    const again = await startSync(null);
    assert.equal((await again.done).code, 0, again.out());
    assert.match(again.out(), /Nothing to write\./, 'a second sync finds the site as the content is');
  });
});

describe('a wrangler that fails or hangs', () => {
  const RERUN = /run `blog sync` again to finish/;

  for (const { name, env, message, hang } of [
    { name: 'listing keys fails', env: { FLAKY_FAIL_ON: '1' }, message: /local KV key list \(tools\/kv-local\.mjs\) failed \(exit status: 1\)\. / },
    { name: 'writing posts fails', env: { FLAKY_FAIL_ON: '2' }, message: /local KV bulk put of \S+ \(tools\/kv-local\.mjs\) failed \(exit status: 1\)\. / },
    {
      name: 'the index is written but its answer is lost',
      env: { FLAKY_FAIL_AFTER_ON: '3' },
      message: /local KV bulk put of \S+ \(tools\/kv-local\.mjs\) failed \(exit status: 1\)\. /,
    },
    {
      // Every call gets the same timeout, and a real one takes longer than 3 s here: the
      // first call hangs, so the timeout that fires is the hang's.
      name: 'listing keys hangs past BLOG_WRANGLER_TIMEOUT=3',
      env: { FLAKY_HANG_ON: '1', BLOG_WRANGLER_TIMEOUT: '3', FLAKY_HANG_SECONDS: '120' },
      message: /local KV key list \(tools\/kv-local\.mjs\) timed out after 3 s\. /,
      hang: 3,
    },
    {
      name: 'writing the index hangs past BLOG_WRANGLER_TIMEOUT=40',
      env: { FLAKY_HANG_ON: '3', BLOG_WRANGLER_TIMEOUT: '40', FLAKY_HANG_SECONDS: '240' },
      message: /local KV bulk put of \S+ \(tools\/kv-local\.mjs\) timed out after 40 s\. /,
      hang: 40,
    },
  ]) {
    test(`${name}: sync stops, says to re-run, and the site stays consistent`, async () => {
      await editSome(between(5, 30));
      const run = await startSync(env);
      const result = await Promise.race([run.done, sleep(180_000).then(() => null)]);
      if (!result) await killGroup(run);
      assert.ok(result, `blog sync did not finish in 180 s:\n${run.out()}`);
      assert.notEqual(result.code, 0, run.out());
      assert.match(run.out(), message);
      assert.match(run.out(), RERUN);
      if (hang) {
        // Given up after the timeout (plus the calls before it), not after the hang ends;
        // and nothing of the hung wrangler lives on.
        const calls = await run.calls();
        const hungFor = result.ms - calls.at(-1).start;
        assert.ok(hungFor < (hang + 10) * 1000, `blog sync gave up ${hungFor} ms after the call hung, on a ${hang} s timeout`);
        assert.deepEqual(aliveInGroup(run.child.pid), [], 'the hung wrangler outlived blog sync');
      } else {
        assert.match(run.out(), /flaky-kv: /, 'the session\'s own message is passed on');
      }
      await killGroup(run);
      console.log(`  ${name}: ${(await run.calls()).length} calls, exit ${result.code} after ${result.ms} ms; ${await checkSite(name)}`);
    });
  }

  test('an edit whose sync failed, then reverted: the site shows the reverted post', async () => {
    // Finish everything first, so this edit is the only difference.
    const clean = await startSync(null);
    assert.equal((await clean.done).code, 0, clean.out());
    // The newest post, so the feeds carry it too.
    const slug = [...current.keys()].sort().at(-1);
    const i = Number(slug.slice(2));
    const before = current.get(slug);
    const edit = Math.max(...versions.get(slug)) + 1;
    await write(i, edit);
    // The post is written, writing the index fails: KV is ahead of the index.
    const run = await startSync({ FLAKY_FAIL_ON: '3' });
    assert.notEqual((await run.done).code, 0, run.out());
    const during = await get(`${site.base}/posts/${slug}`);
    assert.equal(during.status, 200);
    // The page is the version the index lists (still cached: its key names that version) or
    // the one KV now holds (read, served, kept nowhere); either way one version, title and
    // body alike, as are the feed entries.
    const shown = textOf(/<h1>([\s\S]*?)<\/h1>/.exec(during.body)[1]);
    assert.ok([titleOf(i, before), titleOf(i, edit)].includes(shown), `during: ${shown}`);
    console.log(`  during: /posts/${slug} shows "${shown}"; ${await checkSite('KV ahead of the index')}`);
    // The author gives up on the edit and syncs again.
    await write(i, before);
    const rerun = await startSync(null);
    assert.equal((await rerun.done).code, 0, rerun.out());
    assert.match(rerun.out(), new RegExp(`updated\\s+${slug}`));
    const page = await get(`${site.base}/posts/${slug}`);
    assert.equal(textOf(/<h1>([\s\S]*?)<\/h1>/.exec(page.body)[1]), titleOf(i, before), 'the page still shows the abandoned edit');
    console.log(`  after the re-run: ${await checkSite('after the re-run', { exact: true })}`);
  });
});
