#!/usr/bin/env node
// `make bench`: speed and size figures for the blog, printed as a table with a PASS/MISS per
// goal and one summary line last, and written to bench/RESULTS.md. See bench/README.md for
// what each figure means and how it is measured.
//
// The machine is small and shared, so nothing here is a lone absolute time: contenders run
// side by side in one run, interleaved, over several rounds, and the report gives medians
// and ratios. Settings: BENCH_PAIRS (7) and BENCH_SECONDS (2) for the throughput pairs,
// BENCH_ROUNDS (3) for the other comparisons; BENCH_ONLY=reads runs section 5 alone (see
// bench/README.md).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleSizes, pageWeights, BUDGET } from './bytes.mjs';
import { objectDir, pollBadge, storedCounts } from './counts.mjs';
import { BROWSER_UA, fixedCount, readerHeaders, wrk, wrkCount } from './load.mjs';
import { BLOG, OUT, ROOT, WORKERD, WRANGLER, portIsFree, run, runOk, sleep } from './proc.mjs';
import {
  compatibilityDate,
  prepareBlogDir,
  workerdBlog,
  workerdLimit,
  workerdFloor,
  workerdLimitKv,
  wranglerSite,
} from './servers.mjs';
import { int, kb, mark, median, ms, pct, ratio, table, us } from './stats.mjs';
import { KV_DELAY_MS, scaleFigures } from './scale.mjs';
import { syncFigures } from './sync.mjs';
import { searchFigures, searchLines } from './search.mjs';
import { relatedFigures, relatedLines } from './related.mjs';
import { SYNC_SETTLE_MS } from '../tests/tools/sync-settle.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Throughput: each contender is run back to back with its runtime's limit, this many times. */
const PAIRS = Number(process.env.BENCH_PAIRS ?? 7);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const CONNECTIONS = 32;
/** Posts generated for the sync figures, and served for the uncached renders. */
const MANY = 2000;
/** Distinct posts requested per uncached round (each once), per runtime. */
const UNCACHED_N = { wrangler: Number(process.env.BENCH_UNCACHED_WRANGLER ?? 400), workerd: Number(process.env.BENCH_UNCACHED_WORKERD ?? 1000) };
/** Reads sent for the exact-count run, and in the burst before the kill. */
const READS_N = Number(process.env.BENCH_READS ?? 5000);
const BURST_N = 400;
/**
 * The counting path alone (bench/workerd/reads-driver.js): reads sent straight to the
 * ReadCounter objects in the Worker's own calls. COUNTER_BATCH is what the Worker sends per
 * call at the goal's rate: `flush` sends one batch per shard per 50 ms window, so 2,000
 * reads/s into one isolate make 100 reads a window over 8 shards, 12.5 a call (rounded down).
 * COUNTER_INFLIGHT: one flush's calls, one per shard, all under way at once.
 */
const COUNTER_BATCH = Number(process.env.BENCH_COUNTER_BATCH ?? 12);
const COUNTER_INFLIGHT = Number(process.env.BENCH_COUNTER_INFLIGHT ?? 8);
const COUNTER_N = Number(process.env.BENCH_COUNTER_READS ?? 100_000);
/** Reads sent one per call (no batching): fewer, since each costs a whole call. */
const COUNTER_N_SINGLE = Number(process.env.BENCH_COUNTER_READS_SINGLE ?? 20_000);
/** `reads`: section 5 only (workerd blog + driver, and the kill test on wrangler dev). */
const ONLY = process.env.BENCH_ONLY ?? '';
/**
 * The DO-slow comparison: a normal site, a second normal one (the control: what the
 * machine's noise alone does to a p99) and a slow-counter one, each measured alone in short
 * slices of a fixed number of requests, the three interleaved in rotating order over many
 * rounds, every request a new reader; each site's latencies are pooled over all its slices.
 * Measured alone, a site's p99 is its own and not the other two's queueing on 2 cores.
 */
const SLOW_CONNECTIONS = 4;
const SLOW_ROUNDS = ROUNDS * 4;
const SLOW_SLICE = { wrangler: Number(process.env.BENCH_SLOW_SLICE_WRANGLER ?? 400), workerd: Number(process.env.BENCH_SLOW_SLICE_WORKERD ?? 1500) };
const SLOW_FAULT = 'slow=200';

const GOALS = {
  cached: 0.9,
  uncached: 0.5,
  // An uncached post against its ceiling (the reference worker's ratio), each runtime.
  ofCeiling: 0.8,
  index: 0.8,
  renderUs: 100,
  wasmGz: 500 * 1024,
  readsPerSecond: 2000,
  slowP99: 0.1,
  checkMs: 1000,
};

const startedAt = Date.now();
const progress = (msg) => process.stderr.write(`· [${((Date.now() - startedAt) / 1000).toFixed(0).padStart(3)} s] ${msg}\n`);

const R = { rounds: ROUNDS, pairs: PAIRS, seconds: SECONDS };

async function machine() {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  const first = async (cmd, args, okCodes = [0]) => {
    const r = await run(cmd, args).catch(() => null);
    return r && okCodes.includes(r.code) ? `${r.stdout}${r.stderr}`.trim().split('\n')[0] : 'not installed';
  };
  return {
    nproc: (await first('nproc', [])) || String(os.cpus().length),
    cpu,
    memory: `${(memKb / 1024 / 1024).toFixed(1)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    wrangler: await first(WRANGLER, ['--version']),
    workerd: await first(WORKERD, ['--version']),
    // `wrk -v` prints its version, then its usage, and exits 1.
    wrk: (await first('wrk', ['-v'], [0, 1])).replace(/ Copyright.*/, ''),
    hyperfine: await first('hyperfine', ['--version']),
    date: new Date().toISOString(),
    loadStart: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

async function preflight() {
  const missing = [];
  for (const f of ['build/index_bg.wasm', 'build/index.js', 'target/release/blog']) {
    if (!fs.existsSync(path.join(ROOT, f))) missing.push(f);
  }
  if (!ONLY && (await run('wrk', ['-v']).catch(() => ({ code: 127 }))).code === 127) missing.push('wrk (apt-get install wrk)');
  if (missing.length) throw new Error(`missing: ${missing.join(', ')}: run \`make build\` and \`cargo build --release -p blog-author --bin blog\` first`);
}

// ------------------------------------------------------------------ goal 4: the bundle

async function bundle() {
  const dir = path.join(OUT, 'bundle');
  const r = await runOk(WRANGLER, ['deploy', '--dry-run', '--outdir', dir]);
  const m = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(r.stdout + r.stderr);
  const sizes = bundleSizes(dir);
  sizes.wranglerSays = m ? { kib: Number(m[1]), gzKib: Number(m[2]) } : null;
  sizes.dir = dir;
  return sizes;
}

// ------------------------------------------------------------------ goal 3: native render

async function render() {
  const r = await runOk('cargo', ['run', '--quiet', '--release', '-p', 'blog-author', '--example', 'render_bench'], { cwd: ROOT });
  const rows = [...r.stdout.matchAll(/^render_bench: (.*)$/gm)].map((m) => {
    const row = {};
    for (const [, k, v] of m[1].matchAll(/(\w+)=("[^"]*"|\S+)/g)) row[k] = v.startsWith('"') ? v.slice(1, -1) : Number.isNaN(Number(v)) ? v : Number(v);
    return row;
  });
  return { rows, text: r.stdout.split('\n').filter((l) => !l.startsWith('render_bench:')).join('\n').trim() };
}

// ------------------------------------------------------------------ sites

function realPosts(kvJson) {
  const records = JSON.parse(fs.readFileSync(kvJson, 'utf8'));
  const posts = records.filter((r) => r.key.startsWith('post/'));
  const bySize = posts
    .map((r) => ({ slug: r.key.slice(5), bytes: fs.statSync(path.join(ROOT, 'content', r.metadata.file)).size }))
    .sort((a, b) => b.bytes - a.bytes);
  // Newest first, as the site lists them.
  const slugs = posts
    // A post's value is its JSON, a line break, then its HTML.
    .map((r) => JSON.parse(r.value.split('\n', 1)[0]))
    .sort((a, b) => b.published - a.published || a.title.localeCompare(b.title))
    .map((m) => m.slug);
  return { bySize, slugs };
}

/** The limit worker's page: the blog's own bytes and headers for the largest real post. */
async function writeLimitPage(base, slug) {
  const res = await fetch(`${base}/posts/${slug}`);
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`GET /posts/${slug} answered ${res.status}`);
  const headers = {};
  for (const [k, v] of res.headers) {
    if (!['transfer-encoding', 'content-length', 'date', 'connection', 'keep-alive'].includes(k)) headers[k] = v;
  }
  fs.writeFileSync(path.join(ROOT, 'bench/limit-worker/page.html'), body);
  fs.writeFileSync(path.join(ROOT, 'bench/limit-worker/headers.json'), JSON.stringify(headers, null, 2));
  return { bytes: body.length, headers: Object.keys(headers).length };
}

/** Captures the KV records `blog sync` writes (bench/kv-capture.mjs) into DIR/kv.json. */
async function captureSync(contentDir, dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  await runOk(BLOG, ['sync', '--content', contentDir, '--persist-to', dir], {
    env: { ...process.env, BLOG_NODE: path.join(ROOT, 'bench/kv-capture.mjs'), WRANGLER_SEND_METRICS: 'false' },
  });
  return path.join(dir, 'kv.json');
}

// ------------------------------------------------------------------ goal 1: throughput

/**
 * The Host workerd direct is asked for: a *.workers.dev name, where the Cache API stores
 * nothing and the blog makes no calls to it (its Cache API service here stores nothing
 * either). Under wrangler dev the Cache API works, as on a custom domain.
 */
const WORKERS_DEV_HOST = 'blog.bench.workers.dev';
const hostFor = (runtime) => (runtime === 'workerd' ? WORKERS_DEV_HOST : null);

function rotate(list, by) {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/**
 * Each contender runs back to back with its runtime's limit worker, in alternating order,
 * PAIRS times (runtimes alternate, contenders rotate). A ratio compares two runs seconds
 * apart, so a burst of load on the shared machine more often hits both or neither.
 */
async function throughput(contenders) {
  progress(`throughput: warming ${contenders.length} contenders`);
  for (const c of contenders) await wrk(c.url, { connections: CONNECTIONS, seconds: 2, host: hostFor(c.runtime) });
  const runs = Object.fromEntries(contenders.map((c) => [c.id, []]));
  const paired = {};
  for (let r = 0; r < PAIRS; r++) {
    for (const rt of r % 2 ? ['workerd', 'wrangler'] : ['wrangler', 'workerd']) {
      const limit = contenders.find((c) => c.id === `${rt}/limit`);
      for (const c of rotate(contenders.filter((x) => x.runtime === rt && x !== limit), r)) {
        const pair = {};
        for (const who of r % 2 ? [limit, c] : [c, limit]) {
          pair[who.id] = await wrk(who.url, { connections: CONNECTIONS, seconds: SECONDS, host: hostFor(rt) });
        }
        runs[c.id].push(pair[c.id]);
        runs[limit.id].push(pair[limit.id]);
        (paired[c.id] ??= []).push(pair[limit.id]);
        const res = pair[c.id];
        progress(`throughput pair ${r + 1}/${PAIRS}: ${c.id} ${int(res.rps)} req/s, limit ${int(pair[limit.id].rps)} (${ratio(res.rps / pair[limit.id].rps)}), p99 ${ms(res.p99)}${res.non2xx ? `, ${res.non2xx} non-2xx` : ''}`);
      }
    }
  }
  return { runs, paired };
}

/** Each pair's ratio, the contender's req/s over the limit's run beside it, then their median. */
function ratios(results, id) {
  const per = results.runs[id].map((res, i) => res.rps / results.paired[id][i].rps);
  return { per, median: median(per) };
}

// ------------------------------------------------------------------ goal 1: uncached renders

/**
 * A new content version, as a sync after a settings change would write: index, then version.
 * The settings' own version changes too, as it does then, and every post page's key with it:
 * no page kept in memory or in the Cache API under an earlier round answers.
 */
function bumpedSite(baseSite, tag) {
  const site = structuredClone(baseSite);
  site.version = `${baseSite.version}-${tag}`;
  site.settings.tagline = `${baseSite.settings.tagline} (${tag})`;
  site.settings_version = `${baseSite.settings_version}-${tag}`;
  return [
    { key: 'site', value: JSON.stringify(site), metadata: { hash: site.version } },
    { key: 'version', value: site.version, metadata: { hash: site.version } },
  ];
}

/** Writes a content version as `blog sync` does, and waits as it does before it returns. */
async function publish(site, entries) {
  if (site.runtime === 'wrangler') {
    const file = path.join(OUT, 'bump.json');
    fs.writeFileSync(file, JSON.stringify(entries));
    await runOk(WRANGLER, ['kv', 'bulk', 'put', file, '--binding', 'POSTS', '--local', '--persist-to', site.stateDir]);
  } else {
    for (const e of entries) {
      const res = await fetch(`${site.admin}/${encodeURIComponent(e.key)}?urlencoded=true`, {
        method: 'PUT',
        body: e.value,
        headers: { 'CF-KV-Metadata': JSON.stringify(e.metadata) },
      });
      if (!res.ok) throw new Error(`KV PUT ${e.key} answered ${res.status}`);
    }
  }
  await sleep(SYNC_SETTLE_MS);
}

/**
 * The uncached runs: wrangler dev asked as a custom domain (its Cache API works, so each
 * render also looks there and writes there) and as a *.workers.dev host (no Cache API), and
 * workerd direct as a *.workers.dev host.
 */
const UNCACHED_VARIANTS = [
  { id: 'wrangler', runtime: 'wrangler', host: null, label: 'custom domain: Cache API lookup + write', reference: 'wrangler/limit+cache' },
  { id: 'wrangler-workers.dev', runtime: 'wrangler', host: WORKERS_DEV_HOST, label: '*.workers.dev: no Cache API' },
  { id: 'workerd', runtime: 'workerd', host: WORKERS_DEV_HOST, label: '*.workers.dev: no Cache API', reference: 'workerd/limit+kv', floor: 'workerd/floor' },
];

/**
 * What each reference adds to the limit worker: the least an uncached render must also do
 * in that setup, with no render at all. Its ratio is a ceiling for the blog's.
 */
const UNCACHED_REFERENCES = {
  'wrangler/limit+cache': 'limit + the post\'s KV read + Cache API lookup (miss) + write',
  'workerd/limit+kv': 'limit + the post\'s KV read',
  'workerd/floor': 'floor: a workers-rs Worker doing only that KV read',
};

/**
 * The state the custom-domain reference runs on: a copy of the 2,000-post site's, so its KV
 * reads find the records the blog reads (the copy keeps the blog's own state apart).
 */
function limitCacheState() {
  const dir = path.join(OUT, 'limit-cache/state');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(path.join(OUT, 'many/state'), dir, { recursive: true });
  return dir;
}

async function uncached({ sites, limits, references, baseSite, slugs }) {
  const results = Object.fromEntries(UNCACHED_VARIANTS.map((v) => [v.id, []]));
  // One round first that is not kept: a new isolate runs its wasm from the baseline compiler
  // until the hot functions are optimised, which an edge isolate serving for hours is past.
  for (let r = -1; r < ROUNDS; r++) {
    for (const v of rotate(UNCACHED_VARIANTS, r)) {
      const rt = v.runtime;
      const site = sites[rt];
      const n = UNCACHED_N[rt];
      const tag = `bench-${v.id}-${r + 1}`;
      await publish(site, bumpedSite(baseSite, tag));
      // One request loads the new index into the isolate, so the timed requests are renders
      // of posts and nothing else; check the new version is what is served.
      const home = await (await fetch(`${site.base}/`)).text();
      if (!home.includes(`(${tag})`)) throw new Error(`${site.name} does not serve content version ${tag} after publishing it`);
      const start = (r * 677) % slugs.length;
      const paths = [...slugs.slice(start), ...slugs.slice(0, start)].map((s) => `/posts/${s}`);
      const pair = {};
      const targets = {
        blog: site,
        limit: limits[rt],
        ...(v.reference ? { reference: references[v.reference] } : {}),
        ...(v.floor ? { floor: references[v.floor] } : {}),
      };
      for (const who of rotate(Object.keys(targets), r)) {
        const target = targets[who];
        pair[who] = await wrkCount(target.base, paths, n, { connections: CONNECTIONS, host: v.host });
        if (pair[who].non200) throw new Error(`${target.name}: ${pair[who].non200} of ${n} uncached requests were not 200`);
      }
      pair.ratio = pair.blog.rps / pair.limit.rps;
      if (pair.reference) pair.referenceRatio = pair.reference.rps / pair.limit.rps;
      if (pair.floor) pair.floorRatio = pair.floor.rps / pair.limit.rps;
      if (r < 0) {
        progress(`uncached warm-up ${v.id}: ${int(pair.blog.rps)} req/s (not kept)`);
        continue;
      }
      results[v.id].push(pair);
      const ref = (pair.reference ? `; ${UNCACHED_REFERENCES[v.reference]} ${int(pair.reference.rps)} (${ratio(pair.referenceRatio)})` : '') +
        (pair.floor ? `; ${UNCACHED_REFERENCES[v.floor]} ${int(pair.floor.rps)} (${ratio(pair.floorRatio)})` : '');
      progress(`uncached round ${r + 1}/${ROUNDS} ${v.id}: ${n} distinct posts at ${int(pair.blog.rps)} req/s, limit ${int(pair.limit.rps)} (${ratio(pair.ratio)})${ref}`);
    }
  }
  return results;
}

// ------------------------------------------------------------------ goal 5: counting reads

async function readsExact(site, slug) {
  const dir = objectDir(site);
  const before = await storedCounts(dir);
  const sent = await fixedCount(site.base, Array(READS_N).fill(`/posts/${slug}`), {
    concurrency: CONNECTIONS,
    headers: readerHeaders(0x500),
  });
  if (sent.statuses[200] !== READS_N) throw new Error(`reads run: answers ${JSON.stringify(sent.statuses)}`);
  const expected = (before.reads[slug] ?? 0) + READS_N;
  const polled = await pollBadge(site.base, slug, { expected });
  const after = await storedCounts(dir);
  const calls = after.batches - before.batches;
  return {
    sent: READS_N,
    rps: sent.rps,
    p99: sent.p99,
    before: before.reads[slug] ?? 0,
    shown: polled.reads,
    expected,
    waitedMs: polled.waitedMs,
    exact: polled.reads === expected,
    stored: (after.reads[slug] ?? 0) - (before.reads[slug] ?? 0),
    calls,
    perCall: calls ? READS_N / calls : NaN,
    callsPerSecond: calls / (sent.ms / 1000),
  };
}

/** A call to the bench-only driver worker beside a workerd blog; fails unless it answers 200. */
async function driver(site, action, params) {
  const res = await fetch(`${site.driver}/${action}?${new URLSearchParams(params)}`, { method: 'POST' });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`reads driver /${action} answered ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/**
 * N distinct readers of one post sent straight to the ReadCounter objects, in batches of
 * `batch`, `inflight` calls under way at once; timed from here around the driver's /send (the
 * readers' fingerprints and the batches are made beforehand). Then exactness three ways: what
 * the objects answered (sum of `counted`), what their SQLite files hold (+N reads, +1 batch
 * row per call), and the blog's badge (before + N). Last, the first batch of each shard is sent
 * again with its id, as a retry after a lost answer: it must count nothing.
 */
async function counterPath(site, slug, { n, batch, inflight, runId }) {
  const dir = objectDir(site);
  await sleep(300);
  const before = await storedCounts(dir);
  const prepared = await driver(site, 'prepare', { run: runId, n, batch, slug, ua: BROWSER_UA });
  const t0 = performance.now();
  const sent = await driver(site, 'send', { run: runId, inflight });
  const ms = performance.now() - t0;
  const stored = await storedCounts(dir);
  const resent = await driver(site, 'resend', { run: runId });
  const after = await storedCounts(dir);
  const base = before.reads[slug] ?? 0;
  const expected = base + n;
  const polled = await pollBadge(site.base, slug, { expected });
  const r = {
    n,
    batch,
    inflight,
    calls: prepared.batches,
    perShard: prepared.perShard,
    ms,
    driverMs: sent.ms,
    rps: (n / ms) * 1000,
    callsPerSecond: (prepared.batches / ms) * 1000,
    counted: sent.counted,
    failed: sent.failed,
    errors: sent.errors,
    before: base,
    expected,
    storedDelta: (stored.reads[slug] ?? 0) - base,
    batchRows: stored.batches - before.batches,
    resent: resent.batches,
    recounted: resent.counted + ((after.reads[slug] ?? 0) - (stored.reads[slug] ?? 0)),
    resendRows: after.batches - stored.batches,
    shown: polled.reads,
    waitedMs: polled.waitedMs,
  };
  r.exact =
    r.failed === 0 &&
    r.counted === n &&
    r.storedDelta === n &&
    r.batchRows === r.calls &&
    r.recounted === 0 &&
    r.resendRows === 0 &&
    r.shown === expected;
  return r;
}

async function killTest(site, slug) {
  const dir = objectDir(site);
  // Counts settled: nothing of earlier phases still pending.
  await sleep(300);
  const before = await storedCounts(dir);
  const burst = await fixedCount(site.base, Array(BURST_N).fill(`/posts/${slug}`), {
    concurrency: CONNECTIONS,
    headers: readerHeaders(0x600),
  });
  const answered = performance.now();
  await site.kill();
  const killMs = performance.now() - answered;
  const afterKill = await storedCounts(dir);
  const counted = (afterKill.reads[slug] ?? 0) - (before.reads[slug] ?? 0);
  const others = Object.keys(before.reads).filter((s) => s !== slug);
  const intactAtKill = others.every((s) => afterKill.reads[s] === before.reads[s]);
  for (let i = 0; i < 40 && !(await portIsFree(site.port)); i++) await sleep(250);
  await site.start();
  const polled = await pollBadge(site.base, slug, { expected: afterKill.reads[slug] ?? 0 });
  const afterRestart = await storedCounts(dir);
  const intact =
    intactAtKill &&
    Object.keys(afterKill.reads).every((s) => afterRestart.reads[s] === afterKill.reads[s]) &&
    polled.reads === (afterKill.reads[slug] ?? 0);
  return {
    sent: BURST_N,
    rps: burst.rps,
    killMs,
    counted,
    lost: BURST_N - counted,
    // Reads that arrive within one flush window are still in the isolate's memory.
    expectedMax: Math.ceil(burst.rps * 0.05),
    shownAfterRestart: polled.reads,
    intact,
    others: others.length,
  };
}

// ------------------------------------------------------------------ goal 6: a slow counter

async function slowCounter(groups, slug) {
  const all = groups.flatMap((g) => [g.normal, g.control, g.slow]);
  progress('DO-slow: warming');
  let runId = 0x700;
  const slice = (s, n) => fixedCount(s.base, Array(n).fill(`/posts/${slug}`), { concurrency: SLOW_CONNECTIONS, headers: readerHeaders(runId++) });
  for (const s of all) await slice(s, 200);
  const results = Object.fromEntries(all.map((s) => [s.name, []]));
  for (let r = 0; r < SLOW_ROUNDS; r++) {
    for (const g of r % 2 ? [...groups].reverse() : groups) {
      const n = SLOW_SLICE[g.normal.runtime];
      const res = {};
      for (const s of rotate([g.normal, g.control, g.slow], r)) {
        const x = await slice(s, n);
        const bad = n - (x.statuses[200] ?? 0);
        if (bad) throw new Error(`${s.name}: ${bad} of ${n} post requests were not 200 (${JSON.stringify(x.statuses)})`);
        results[s.name].push(x);
        res[s.name] = x;
      }
      progress(`DO-slow round ${r + 1}/${SLOW_ROUNDS} ${g.normal.runtime}: p99 ${ms(res[g.normal.name].p99)} normal, ${ms(res[g.control.name].p99)} control, ${ms(res[g.slow.name].p99)} slow counter`);
    }
  }
  const pooled = (list) => {
    const sorted = Float64Array.from(list.flatMap((x) => [...x.latencies])).sort();
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return { n: sorted.length, p50: at(0.5), p99: at(0.99), rps: median(list.map((x) => x.rps)), rounds: list };
  };
  return groups.map((g) => {
    const normal = pooled(results[g.normal.name]);
    const control = pooled(results[g.control.name]);
    const slow = pooled(results[g.slow.name]);
    return {
      runtime: g.normal.runtime,
      normal,
      control: { ...control, delta: control.p99 / normal.p99 - 1 },
      slow,
      delta: slow.p99 / normal.p99 - 1,
    };
  });
}

// ------------------------------------------------------------------ the run

/** Section 5 on workerd: reads through page requests, then into the counter objects directly. */
async function readsPhase(dBlog, slug) {
  progress(`reads: ${READS_N} reads of one post on workerd, each a new reader; then the badge until exact`);
  R.reads = await readsExact(dBlog, slug);
  progress(`reads: ${int(R.reads.rps)} reads/s, badge ${R.reads.shown} of ${R.reads.expected}, ${R.reads.calls} counter calls`);
  // The two batch sizes alternate which goes first, over the usual rounds; medians reported.
  const kinds = [[COUNTER_N, COUNTER_BATCH], [COUNTER_N_SINGLE, 1]];
  const runs = kinds.map(() => []);
  let runId = 0x800;
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of r % 2 ? [1, 0] : [0, 1]) {
      const [n, batch] = kinds[k];
      progress(`reads round ${r + 1}/${ROUNDS}: ${n} reads straight into the counter objects, batches of ${batch}, ${COUNTER_INFLIGHT} in flight`);
      const c = await counterPath(dBlog, slug, { n, batch, inflight: COUNTER_INFLIGHT, runId: runId++ });
      runs[k].push(c);
      progress(`reads: ${int(c.rps)} reads/s (${int(c.calls)} calls), exact: ${c.exact ? 'yes' : 'NO'}`);
    }
  }
  R.counter = kinds.map(([n, batch], k) => ({
    n,
    batch,
    inflight: COUNTER_INFLIGHT,
    rounds: runs[k],
    rps: median(runs[k].map((c) => c.rps)),
    exact: runs[k].every((c) => c.exact),
  }));
}

/** Every run's start: the tools are there, bench/out is empty, the machine is described. */
async function begin(label) {
  await preflight();
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  R.machine = await machine();
  progress(`${label}${R.machine.nproc} cores, ${R.machine.cpu}; load ${R.machine.loadStart}`);
}

/** BENCH_ONLY=reads: the blog on workerd with its driver, and the kill test; section 5 alone. */
async function mainReads() {
  await begin('BENCH_ONLY=reads: ');
  progress('bundle: wrangler deploy --dry-run');
  R.bundle = await bundle();
  progress('real content: blog sync into local state; the same records captured for workerd');
  const realState = path.join(OUT, 'real/state');
  await runOk(BLOG, ['sync', '--persist-to', realState]);
  const realKv = await captureSync(path.join(ROOT, 'content'), path.join(OUT, 'real/capture'));
  const [, readsPost, killPost] = realPosts(realKv).bySize;
  const date = compatibilityDate(R.machine.workerd);
  R.compatibilityDate = date;
  const [dBlog, wBlog] = await Promise.all([
    workerdBlog({ name: 'workerd-blog', dir: prepareBlogDir('workerd-blog', { bundleDir: R.bundle.dir, kvJson: realKv, date }) }),
    wranglerSite({ name: 'wrangler-blog', stateDir: realState }),
  ]);
  await readsPhase(dBlog, readsPost.slug);
  progress(`kill: ${BURST_N} reads on wrangler dev, killed the moment the last is answered, restarted`);
  R.kill = await killTest(wBlog, killPost.slug);
  await Promise.all([dBlog.stop(), wBlog.stop()]);
  R.machine.loadEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  R.elapsedS = (Date.now() - startedAt) / 1000;
  const goal = readsGoal();
  const M = R.machine;
  const out = [
    `Benchmark of the blog worker, section 5 only (BENCH_ONLY=reads), ${M.date}`,
    `machine: ${M.nproc} cores, ${M.cpu}, ${M.memory}; load average ${M.loadStart} at start, ${M.loadEnd} at end`,
    `tools: node ${M.node}, wrangler ${M.wrangler}, ${M.workerd} (compatibility date ${R.compatibilityDate}); ${R.elapsedS.toFixed(0)} s in all`,
    '',
    ...readsLines(goal),
    '',
    'Goals',
    table(['goal', 'figure', 'target', ''], [[goal.name, goal.figure, goal.target, mark(goal.ok)]]),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

/** BENCH_ONLY=slow: section 6 alone (three sites on each runtime, the real content). */
async function mainSlow() {
  await begin('BENCH_ONLY=slow: ');
  R.bundle = await bundle();
  const realState = path.join(OUT, 'real/state');
  await runOk(BLOG, ['sync', '--persist-to', realState]);
  for (const name of ['slow', 'control']) fs.cpSync(realState, path.join(OUT, `${name}/state`), { recursive: true });
  const realKv = await captureSync(path.join(ROOT, 'content'), path.join(OUT, 'real/capture'));
  const [, , , seeded] = realPosts(realKv).bySize;
  const date = compatibilityDate(R.machine.workerd);
  const blogDir = (name) => prepareBlogDir(name, { bundleDir: R.bundle.dir, kvJson: realKv, date });
  const sites = await Promise.all([
    wranglerSite({ name: 'wrangler-blog', stateDir: realState }),
    wranglerSite({ name: 'wrangler-blog-control', stateDir: path.join(OUT, 'control/state') }),
    wranglerSite({ name: 'wrangler-blog-slow-do', stateDir: path.join(OUT, 'slow/state'), vars: { COUNTER_FAULT: SLOW_FAULT } }),
    workerdBlog({ name: 'workerd-blog', dir: blogDir('workerd-blog') }),
    workerdBlog({ name: 'workerd-blog-control', dir: blogDir('workerd-blog-control') }),
    workerdBlog({ name: 'workerd-blog-slow-do', dir: blogDir('workerd-blog-slow-do'), fault: SLOW_FAULT }),
  ]);
  const [wBlog, wControl, wSlow, dBlog, dControl, dSlow] = sites;
  R.slow = await slowCounter(
    [
      { normal: wBlog, control: wControl, slow: wSlow },
      { normal: dBlog, control: dControl, slow: dSlow },
    ],
    seeded.slug,
  );
  await Promise.all(sites.map((site) => site.stop()));
  R.machine.loadEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const M = R.machine;
  const out = [
    `Benchmark of the blog worker, section 6 only (BENCH_ONLY=slow), ${M.date}`,
    `machine: ${M.nproc} cores, ${M.cpu}, ${M.memory}; load average ${M.loadStart} at start, ${M.loadEnd} at end`,
    '',
    ...slowLines(),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

/** Section 8's tables and its goal: the cold post's time at the largest size over the smallest. */
function scaleLines() {
  const rows = R.scale;
  const out = [`8. Scale: a cold request (a fresh workerd each time) of each page kind, at ${rows.map((r) => int(r.count)).join(', ')} posts`];
  out.push(
    table(
      ['posts', 'page', 'HTML gzip', 'KV reads', 'KV bytes', `round trips (KV +${KV_DELAY_MS} ms)`, 'cold time (KV instant)'],
      rows.flatMap((r) => Object.entries(r.kinds).map(([kind, k]) => [int(r.count), `${kind} ${k.path}`, kb(k.gzip), int(k.reads), kb(k.kvBytes), int(k.roundTrips), ms(k.ms)])),
    ),
  );
  out.push(
    table(
      ['posts', 'blog check', 'first sync', 'of which cards', 'sync, nothing changed', 'sync after one edit', 'cards drawn: first / nothing changed / one edit', 'KV records'],
      rows.map((r) => [
        int(r.count),
        `${r.sync.check.toFixed(2)} s`,
        `${r.sync.first.toFixed(1)} s`,
        `${r.sync.cards.first.seconds.toFixed(1)} s`,
        `${r.sync.again.toFixed(1)} s${r.sync.againWrote ? ' (WROTE)' : ''}`,
        r.sync.edit === null ? '-' : `${r.sync.edit.toFixed(1)} s`,
        [r.sync.cards.first, r.sync.cards.again, r.sync.cards.edit].map((c) => (c ? int(c.rendered) : '-')).join(' / '),
        kb(r.sync.kvBytes),
      ]),
    ),
  );
  const small = rows[0].kinds.post.ms;
  const large = rows.at(-1).kinds.post.ms;
  const cold = { name: 'cold post time, largest / smallest site', figure: ratio(large / small), target: '<= 1.20x', ok: large / small <= 1.2 };
  out.push(`   cold post: ${ms(large)} at ${int(rows.at(-1).count)} posts, ${ms(small)} at ${int(rows[0].count)}: ${ratio(large / small)} (goal at most 1.20x) ${mark(cold.ok)}`);
  return { lines: out, goal: cold };
}

/** BENCH_ONLY=scale: section 8 alone. */
async function mainScale() {
  await begin('BENCH_ONLY=scale: ');
  progress('bundle: wrangler deploy --dry-run');
  R.bundle = await bundle();
  R.scale = await scaleFigures({ bundleDir: R.bundle.dir, date: compatibilityDate(R.machine.workerd), progress });
  R.machine.loadEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const M = R.machine;
  const { lines } = scaleLines();
  const out = [
    `Benchmark of the blog worker, section 8 only (BENCH_ONLY=scale), ${M.date}`,
    `machine: ${M.nproc} cores, ${M.cpu}, ${M.memory}; load average ${M.loadStart} at start, ${M.loadEnd} at end`,
    '',
    ...lines,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

/** BENCH_ONLY=uncached: the uncached renders alone (section 1's last table). */
async function mainUncached() {
  await begin('BENCH_ONLY=uncached: ');
  progress('bundle: wrangler deploy --dry-run');
  R.bundle = await bundle();
  progress(`sync: ${MANY} generated posts`);
  const manyContent = path.join(OUT, 'many/content');
  R.sync = await syncFigures({ contentDir: manyContent, stateDir: path.join(OUT, 'many/state'), count: MANY });
  const realKv = await captureSync(path.join(ROOT, 'content'), path.join(OUT, 'real/capture'));
  const manyKv = await captureSync(manyContent, path.join(OUT, 'many/capture'));
  const manySite = JSON.parse(JSON.parse(fs.readFileSync(manyKv, 'utf8')).find((r) => r.key === 'site').value);
  const [largest] = realPosts(realKv).bySize;
  const date = compatibilityDate(R.machine.workerd);
  const dBlog = await workerdBlog({ name: 'workerd-blog', dir: prepareBlogDir('workerd-blog', { bundleDir: R.bundle.dir, kvJson: realKv, date }) });
  R.limitPage = await writeLimitPage(dBlog.base, largest.slug);
  await dBlog.stop();
  const [wMany, wLimit, wLimitCache, dMany, dLimit, dLimitKv, dFloor] = await Promise.all([
    wranglerSite({ name: 'wrangler-blog-2000', stateDir: path.join(OUT, 'many/state') }),
    wranglerSite({ name: 'wrangler-limit', config: path.join(ROOT, 'bench/limit-worker/wrangler.toml'), stateDir: path.join(OUT, 'limit/state') }),
    wranglerSite({ name: 'wrangler-limit-cache', config: path.join(ROOT, 'bench/limit-worker/cache.toml'), stateDir: limitCacheState() }),
    workerdBlog({ name: 'workerd-blog-2000', dir: prepareBlogDir('workerd-blog-2000', { bundleDir: R.bundle.dir, kvJson: manyKv, date }) }),
    workerdLimit({ name: 'workerd-limit' }),
    workerdLimitKv({ name: 'workerd-limit-kv', kvJson: manyKv, date }),
    workerdFloor({ name: 'workerd-floor', kvJson: manyKv, date }),
  ]);
  R.uncached = await uncached({
    sites: { wrangler: wMany, workerd: dMany },
    limits: { wrangler: wLimit, workerd: dLimit },
    references: { 'wrangler/limit+cache': wLimitCache, 'workerd/limit+kv': dLimitKv, 'workerd/floor': dFloor },
    baseSite: manySite,
    slugs: R.sync.slugs,
  });
  await Promise.all([wMany, wLimit, wLimitCache, dMany, dLimit, dLimitKv, dFloor].map((s) => s.stop()));
  R.machine.loadEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const M = R.machine;
  const out = [
    `Benchmark of the blog worker, uncached renders only (BENCH_ONLY=uncached), ${M.date}`,
    `machine: ${M.nproc} cores, ${M.cpu}, ${M.memory}; load average ${M.loadStart} at start, ${M.loadEnd} at end`,
    '',
    ...uncachedLines(),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

/** BENCH_ONLY=search: section 9 alone (search's size, reads, native time and sync cost). */
async function mainSearch() {
  await begin('BENCH_ONLY=search: ');
  const rows = await searchFigures({ progress });
  R.machine.loadEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const M = R.machine;
  const out = [
    `Benchmark of the blog worker, section 9 only (BENCH_ONLY=search), ${M.date}`,
    `machine: ${M.nproc} cores, ${M.cpu}, ${M.memory}; load average ${M.loadStart} at start, ${M.loadEnd} at end`,
    '',
    ...searchLines(rows),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

/**
 * BENCH_ONLY=searchqps: search results pages per second on workerd direct, against the
 * limit worker (the largest real post's bytes from memory): a query answered from isolate
 * memory, side by side with the limit in pairs, then distinct queries each answered once
 * (uncached: the head, shards, doc tables and ten posts read from KV, ranked, rendered).
 */
async function mainSearchQps() {
  await begin('BENCH_ONLY=searchqps: ');
  progress('bundle: wrangler deploy --dry-run');
  R.bundle = await bundle();
  const realKv = await captureSync(path.join(ROOT, 'content'), path.join(OUT, 'real/capture'));
  const [largest] = realPosts(realKv).bySize;
  const date = compatibilityDate(R.machine.workerd);
  const dBlog = await workerdBlog({ name: 'workerd-blog', dir: prepareBlogDir('workerd-blog', { bundleDir: R.bundle.dir, kvJson: realKv, date }) });
  R.limitPage = await writeLimitPage(dBlog.base, largest.slug);
  const dLimit = await workerdLimit({ name: 'workerd-limit' });
  const cachedQuery = '/search?q=buildkit+socket';
  const probe = await (await fetch(`${dBlog.base}${cachedQuery}`, { headers: { host: WORKERS_DEV_HOST } })).text();
  if (!probe.includes('/posts/how-nixpacks-buildctl-and-buildkit-fit-together')) throw new Error(`${cachedQuery} does not find the Nixpacks post`);
  const T = await throughput([
    { id: 'workerd/limit', runtime: 'workerd', url: `${dLimit.base}/` },
    { id: 'workerd/search', runtime: 'workerd', url: `${dBlog.base}${cachedQuery}` },
    { id: 'workerd/post', runtime: 'workerd', url: `${dBlog.base}/posts/${largest.slug}` },
  ]);
  // Distinct queries: each pair of neighbouring words of the posts, asked once.
  const pairs = new Set();
  for (const file of fs.readdirSync(path.join(ROOT, 'content')).filter((f) => f.endsWith('.md'))) {
    const words = fs.readFileSync(path.join(ROOT, 'content', file), 'utf8').toLowerCase().match(/[a-z]{4,}/g) ?? [];
    for (let i = 1; i < words.length; i++) pairs.add(`${words[i - 1]}+${words[i]}`);
  }
  const paths = [...pairs].map((p) => `/search?q=${p}`);
  const n = Math.min(UNCACHED_N.workerd, paths.length - CONNECTIONS);
  const limitPaths = Array.from({ length: n + CONNECTIONS }, (_, i) => `/?q=${i}`);
  const uncachedRounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const slice = [...paths.slice((r * n) % paths.length), ...paths.slice(0, (r * n) % paths.length)];
    // Each round asks queries no earlier round asked, as long as there are enough.
    const pair = {};
    for (const who of r % 2 ? ['limit', 'search'] : ['search', 'limit']) {
      pair[who] = who === 'limit'
        ? await wrkCount(dLimit.base, limitPaths, n, { connections: CONNECTIONS, host: WORKERS_DEV_HOST })
        : await wrkCount(dBlog.base, slice, n, { connections: CONNECTIONS, host: WORKERS_DEV_HOST });
      if (pair[who].non200) throw new Error(`${who}: ${pair[who].non200} of ${n} requests were not 200`);
    }
    pair.ratio = pair.search.rps / pair.limit.rps;
    uncachedRounds.push(pair);
    progress(`uncached search round ${r + 1}/${ROUNDS}: ${n} distinct queries at ${int(pair.search.rps)} req/s, limit ${int(pair.limit.rps)} (${ratio(pair.ratio)})`);
  }
  await Promise.all([dBlog.stop(), dLimit.stop()]);
  R.machine.loadEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const M = R.machine;
  const search = ratios(T, 'workerd/search');
  const post = ratios(T, 'workerd/post');
  const rps = (id) => int(median(T.runs[id].map((x) => x.rps)));
  const out = [
    `Benchmark of the blog worker, search throughput only (BENCH_ONLY=searchqps), ${M.date}`,
    `machine: ${M.nproc} cores, ${M.cpu}, ${M.memory}; load average ${M.loadStart} at start, ${M.loadEnd} at end`,
    '',
    `workerd direct, ${CONNECTIONS} connections, ${PAIRS} pairs of ${SECONDS} s runs beside the limit worker:`,
    `  cached results page (${cachedQuery}, from isolate memory): ${rps('workerd/search')} req/s, ${ratio(search.median)} of the limit (pairs: ${search.per.map((x) => x.toFixed(2)).join(' ')}); goal >= ${ratio(GOALS.cached)}: ${search.median >= GOALS.cached ? 'met' : 'NOT met'}`,
    `  cached post, same runs: ${rps('workerd/post')} req/s, ${ratio(post.median)} of the limit`,
    `  limit worker: ${rps('workerd/limit')} req/s`,
    `  uncached: ${n} distinct two-word queries a round, ${ROUNDS} rounds: ${int(median(uncachedRounds.map((p) => p.search.rps)))} req/s, ${ratio(median(uncachedRounds.map((p) => p.ratio)))} of the limit (rounds: ${uncachedRounds.map((p) => p.ratio.toFixed(2)).join(' ')})`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

/** BENCH_ONLY=related: section 10 alone (blog sync with and without related posts). */
async function mainRelated() {
  await begin('BENCH_ONLY=related: ');
  const rows = await relatedFigures({ progress });
  R.machine.loadEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const M = R.machine;
  const out = [
    `Benchmark of the blog worker, section 10 only (BENCH_ONLY=related), ${M.date}`,
    `machine: ${M.nproc} cores, ${M.cpu}, ${M.memory}; load average ${M.loadStart} at start, ${M.loadEnd} at end`,
    '',
    ...relatedLines(rows),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main() {
  if (ONLY === 'reads') return mainReads();
  if (ONLY === 'related') return mainRelated();
  if (ONLY === 'search') return mainSearch();
  if (ONLY === 'searchqps') return mainSearchQps();
  if (ONLY === 'slow') return mainSlow();
  if (ONLY === 'scale') return mainScale();
  if (ONLY === 'uncached') return mainUncached();
  if (ONLY) throw new Error(`BENCH_ONLY=${ONLY}: only "reads", "slow", "scale", "uncached", "search" and "related" are known`);
  await begin('');

  progress('bundle: wrangler deploy --dry-run');
  R.bundle = await bundle();

  progress('native render: cargo run --release -p blog-author --example render_bench');
  R.render = await render();

  progress(`sync: ${MANY} generated posts: blog check, first sync, no-change sync, one edit`);
  const manyContent = path.join(OUT, 'many/content');
  R.sync = await syncFigures({ contentDir: manyContent, stateDir: path.join(OUT, 'many/state'), count: MANY });

  progress('real content: blog sync into local state; the same records captured for workerd');
  const realState = path.join(OUT, 'real/state');
  await runOk(BLOG, ['sync', '--persist-to', realState]);
  fs.cpSync(realState, path.join(OUT, 'slow/state'), { recursive: true });
  fs.cpSync(realState, path.join(OUT, 'control/state'), { recursive: true });
  const realKv = await captureSync(path.join(ROOT, 'content'), path.join(OUT, 'real/capture'));
  const manyKv = await captureSync(manyContent, path.join(OUT, 'many/capture'));
  const real = realPosts(realKv);
  const manySite = JSON.parse(JSON.parse(fs.readFileSync(manyKv, 'utf8')).find((r) => r.key === 'site').value);
  const [largest, readsPost, killPost, ...seeded] = real.bySize;
  R.largest = largest;

  progress('servers: workerd direct, then wrangler dev');
  const date = compatibilityDate(R.machine.workerd);
  R.compatibilityDate = date;
  const dBlog = await workerdBlog({ name: 'workerd-blog', dir: prepareBlogDir('workerd-blog', { bundleDir: R.bundle.dir, kvJson: realKv, date }) });
  R.limitPage = await writeLimitPage(dBlog.base, largest.slug);
  const [wBlog, wSlow, wControl, wMany, wLimit, wLimitCache, dSlow, dControl, dMany, dLimit, dLimitKv, dFloor] = await Promise.all([
    wranglerSite({ name: 'wrangler-blog', stateDir: realState }),
    wranglerSite({ name: 'wrangler-blog-slow-do', stateDir: path.join(OUT, 'slow/state'), vars: { COUNTER_FAULT: SLOW_FAULT } }),
    wranglerSite({ name: 'wrangler-blog-control', stateDir: path.join(OUT, 'control/state') }),
    wranglerSite({ name: 'wrangler-blog-2000', stateDir: path.join(OUT, 'many/state') }),
    wranglerSite({ name: 'wrangler-limit', config: path.join(ROOT, 'bench/limit-worker/wrangler.toml'), stateDir: path.join(OUT, 'limit/state') }),
    wranglerSite({ name: 'wrangler-limit-cache', config: path.join(ROOT, 'bench/limit-worker/cache.toml'), stateDir: limitCacheState() }),
    workerdBlog({ name: 'workerd-blog-slow-do', dir: prepareBlogDir('workerd-blog-slow-do', { bundleDir: R.bundle.dir, kvJson: realKv, date }), fault: SLOW_FAULT }),
    workerdBlog({ name: 'workerd-blog-control', dir: prepareBlogDir('workerd-blog-control', { bundleDir: R.bundle.dir, kvJson: realKv, date }) }),
    workerdBlog({ name: 'workerd-blog-2000', dir: prepareBlogDir('workerd-blog-2000', { bundleDir: R.bundle.dir, kvJson: manyKv, date }) }),
    workerdLimit({ name: 'workerd-limit' }),
    workerdLimitKv({ name: 'workerd-limit-kv', kvJson: manyKv, date }),
    workerdFloor({ name: 'workerd-floor', kvJson: manyKv, date }),
  ]);
  for (const [w, d] of [[wBlog, dBlog], [wLimit, dLimit]]) {
    const a = await (await fetch(`${w.base}/posts/${largest.slug}`)).arrayBuffer();
    const b = await (await fetch(`${d.base}/posts/${largest.slug}`)).arrayBuffer();
    if (Buffer.compare(Buffer.from(a), Buffer.from(b)) !== 0) throw new Error(`${w.name} and ${d.name} answer different bytes for the post`);
  }

  progress('bytes: every page kind on wrangler dev');
  const tagsHtml = await (await fetch(`${wBlog.base}/tags`)).text();
  const tags = [...new Set([...tagsHtml.matchAll(/href="\/tags\/([^"/]+)"/g)].map((m) => m[1]))];
  R.bytes = await pageWeights(wBlog.base, { posts: real.slugs, tags });

  progress('seeding a few reads, so Popular Reads ranks by counts');
  for (const site of [wBlog, dBlog]) {
    for (const [i, p] of seeded.entries()) {
      await fixedCount(site.base, Array(3 * (i + 1)).fill(`/posts/${p.slug}`), { concurrency: 4, headers: readerHeaders(0x100 + i) });
    }
  }
  await sleep(300);

  R.throughput = await throughput([
    { id: 'wrangler/limit', runtime: 'wrangler', url: `${wLimit.base}/` },
    { id: 'wrangler/post', runtime: 'wrangler', url: `${wBlog.base}/posts/${largest.slug}` },
    { id: 'wrangler/index', runtime: 'wrangler', url: `${wBlog.base}/` },
    { id: 'workerd/limit', runtime: 'workerd', url: `${dLimit.base}/` },
    { id: 'workerd/post', runtime: 'workerd', url: `${dBlog.base}/posts/${largest.slug}` },
    { id: 'workerd/index', runtime: 'workerd', url: `${dBlog.base}/` },
    { id: 'workerd/limit+kv', runtime: 'workerd', url: `${dLimitKv.base}/` },
    { id: 'workerd/favicon', runtime: 'workerd', url: `${dBlog.base}/favicon.svg` },
  ]);

  R.uncached = await uncached({
    sites: { wrangler: wMany, workerd: dMany },
    limits: { wrangler: wLimit, workerd: dLimit },
    references: { 'wrangler/limit+cache': wLimitCache, 'workerd/limit+kv': dLimitKv, 'workerd/floor': dFloor },
    baseSite: manySite,
    slugs: R.sync.slugs,
  });
  await Promise.all([wMany.stop(), dMany.stop(), wLimitCache.stop(), dLimitKv.stop(), dFloor.stop()]);

  await readsPhase(dBlog, readsPost.slug);

  progress(`kill: ${BURST_N} reads on wrangler dev, killed the moment the last is answered, restarted`);
  R.kill = await killTest(wBlog, killPost.slug);
  progress(`kill: ${R.kill.lost} of ${R.kill.sent} reads lost; counts intact: ${R.kill.intact}`);

  R.slow = await slowCounter(
    [
      { normal: wBlog, control: wControl, slow: wSlow },
      { normal: dBlog, control: dControl, slow: dSlow },
    ],
    seeded[0].slug,
  );

  await Promise.all([wBlog, wSlow, wControl, wLimit, dBlog, dSlow, dControl, dLimit].map((s) => s.stop()));
  R.scale = await scaleFigures({ bundleDir: R.bundle.dir, date, progress });
  R.machine.loadEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  R.elapsedS = (Date.now() - startedAt) / 1000;
  report();
}

// ------------------------------------------------------------------ the report

/** "updated bench-post-0999" or "1001 posts (added x, added y, ...)". */
function changes(list) {
  if (list.length <= 2) return list.map((c) => c.join(' ')).join(', ') || 'nothing';
  return `${int(list.length)} posts (${list.slice(0, 2).map((c) => c.join(' ')).join(', ')}, ...)`;
}

/**
 * The reads goal: the counting path's figure (the driver at the Worker's batch size), exact
 * there, in the batch-of-1 run and through pages; the page-driven figure is shown beside it.
 */
function readsGoal() {
  const [c, one] = R.counter;
  const exact = R.reads.exact && c.exact && one.exact;
  return {
    key: 'reads',
    name: 'reads recorded, exact',
    figure: `${int(c.rps)} reads/s into the counter objects (batches of ${c.batch}; ${int(one.rps)} one per call), ${exact ? 'exact' : 'NOT exact'}; through pages ${int(R.reads.rps)} reads/s`,
    target: `>= ${int(GOALS.readsPerSecond)}/s, exact`,
    ok: c.rps >= GOALS.readsPerSecond && exact,
  };
}

/** Section 6 of the report. */
function slowLines() {
  const out = [];
  out.push(`6. Post page latency with a slow counter (COUNTER_FAULT=${SLOW_FAULT}) vs without: a normal site, a second normal one (control) and the`);
  out.push(`   slow-counter one, each alone, in slices of ${SLOW_SLICE.wrangler} (wrangler) / ${SLOW_SLICE.workerd} (workerd) GETs of one post, ${SLOW_CONNECTIONS} at a time, every request a new`);
  out.push(`   reader; the three interleaved in rotating order, ${SLOW_ROUNDS} rounds; p50/p99 over all of a site's requests pooled;`);
  out.push('   change = p99 / the normal site\'s p99 - 1; the control shows what noise alone does; goal at most +10%');
  out.push(
    table(
      ['runtime', 'site', 'requests', 'req/s', 'p50', 'p99', 'p99 (ms) per slice', 'p99 change'],
      R.slow.flatMap((s) => [
        [s.runtime, 'normal', int(s.normal.n), int(s.normal.rps), ms(s.normal.p50), ms(s.normal.p99), s.normal.rounds.map((x) => x.p99.toFixed(0)).join(' '), '-'],
        [s.runtime, 'control (normal)', int(s.control.n), int(s.control.rps), ms(s.control.p50), ms(s.control.p99), s.control.rounds.map((x) => x.p99.toFixed(0)).join(' '), `${pct(s.control.delta)} noise`],
        [s.runtime, 'slow counter', int(s.slow.n), int(s.slow.rps), ms(s.slow.p50), ms(s.slow.p99), s.slow.rounds.map((x) => x.p99.toFixed(0)).join(' '), `${pct(s.delta)} ${mark(s.delta <= GOALS.slowP99)}`],
      ]),
    ),
  );
  return out;
}

/** Section 5 of the report. */
function readsLines(goal) {
  const out = [];
  const rd = R.reads;
  const k = R.kill;
  out.push('5. Recording reads (workerd direct; every read a new reader: own address, browser user agent)');
  for (const c of R.counter) {
    out.push(`   reads into the counter objects (driver, batches of ${c.batch}, ${c.inflight} in flight): ${int(c.rps)} reads/s, exact: ${c.exact ? 'yes' : 'NO'} (median of ${c.rounds.length} round${c.rounds.length === 1 ? '' : 's'}: ${c.rounds.map((x) => int(x.rps)).join(' ')})`);
  }
  out.push(`   through pages: ${int(rd.sent)} GETs of one post, ${CONNECTIONS} at a time, all answered 200: ${int(rd.rps)} reads/s, exact: ${rd.exact ? 'yes' : 'NO'} (client: undici in this process, p99 ${ms(rd.p99)})`);
  out.push('   The driver (bench/workerd/reads-driver.js, beside the blog in the same workerd, bound to its ReadCounter namespace) makes');
  out.push('   the Worker\'s own calls: POST /hits {id, hits: [{slug, reader}]} to the reader\'s shard, readers fingerprinted as the Worker');
  out.push(`   does; batches of ${R.counter[0].batch} = what one isolate's 50 ms flush sends each of 8 shards at ${int(GOALS.readsPerSecond)} reads/s; timed around the sending only.`);
  for (const c of R.counter.flatMap((k) => k.rounds)) {
    out.push(
      `   batches of ${c.batch}: ${int(c.n)} readers, ${int(c.calls)} calls in ${(c.ms / 1000).toFixed(1)} s (${int(c.callsPerSecond)} calls/s; shards ${c.perShard.map(int).join('/')}); ` +
        `answers counted ${int(c.counted)}${c.failed ? `, ${c.failed} calls FAILED (${c.errors.join('; ')})` : ''}; SQLite +${int(c.storedDelta)} reads, +${int(c.batchRows)} batch rows; ` +
        `${c.resent} batches sent again with their ids counted ${int(c.recounted)}; badge after ${(c.waitedMs / 1000).toFixed(1)} s ${int(c.shown)} = ${int(c.before)} + ${int(c.n)}? ${c.shown === c.expected ? 'yes' : 'NO'}`,
    );
  }
  out.push(`   through pages: badge after ${(rd.waitedMs / 1000).toFixed(1)} s: ${int(rd.shown)} = ${int(rd.before)} before + ${int(rd.sent)} sent? ${rd.exact ? 'yes, exact' : 'NO'}; the object stored +${int(rd.stored)}`);
  out.push(`   batching through pages: ${int(rd.calls)} counter calls for ${int(rd.sent)} reads = ${rd.perCall.toFixed(0)} reads per call, ${rd.callsPerSecond.toFixed(1)} calls/s (one per shard per isolate per 50 ms window)`);
  out.push(`   ${mark(goal.ok)} goal >= 2,000 reads/s into the counter objects, exact (page requests are bounded by what this machine serves: section 1)`);
  out.push(`   Isolate killed (wrangler dev, SIGKILL to its process group ${k.killMs.toFixed(0)} ms after the last answer): ${int(k.sent)} reads at ${int(k.rps)}/s, ${int(k.counted)} counted, ${int(k.lost)} lost,`);
  out.push(`   = the last ${((k.lost / k.rps) * 1000).toFixed(0)} ms of reads (one 50 ms flush window holds about ${int(k.expectedMax)}; a batch whose call to the object was still under way is lost too).`);
  out.push(`   After restart the badge shows ${int(k.shownAfterRestart)}; the other ${k.others} posts' counts ${k.intact ? 'are unchanged: intact' : 'CHANGED'}.`);
  return out;
}

/** The uncached renders' table: each variant's ratio to the limit, and to its ceiling. */
function uncachedLines() {
  const out = [];
  out.push(`   Uncached renders: each round publishes a new content version (site + version keys, as a sync`);
  out.push(`   after a settings change writes them), loads it with one request, then wrk asks for N distinct posts`);
  out.push(`   of the ${int(MANY)}-post site once each; the limit worker gets the same N paths right before or after.`);
  out.push('   Asked as a custom domain, an uncached render also looks in the Cache API and writes to it (Miniflare\'s, under wrangler);');
  out.push('   asked as *.workers.dev, where the Cache API stores nothing, the blog makes neither call.');
  out.push('   A reference row is a worker that does only what an uncached render must do in that setup besides rendering,');
  out.push(`   measured in the same rounds: its ratio is a ceiling for the blog's there (goal: the blog at ${ratio(GOALS.ofCeiling)} of it).`);
  out.push('   The floor row is bench/floor-worker: the same KV read and the same page and headers, through the workers-rs SDK');
  out.push('   and the blog\'s build (no blog code): the most any Rust Worker on this SDK reaches there, as a fraction of the ceiling.');
  const urow = (v) => {
    const list = R.uncached[v.id];
    const rr = median(list.map((p) => p.ratio));
    const rows = [[v.runtime, v.label, int(UNCACHED_N[v.runtime]), int(median(list.map((p) => p.blog.rps))), int(median(list.map((p) => p.limit.rps))), ratio(rr), list.map((p) => p.ratio.toFixed(2)).join(' '), '-', `${mark(rr >= GOALS.uncached)} >= 0.50`]];
    if (v.reference) {
      const ref = median(list.map((p) => p.referenceRatio));
      const of = median(list.map((p) => p.ratio / p.referenceRatio));
      rows[0][7] = `${ratio(of)} ${mark(of >= GOALS.ofCeiling)}`;
      rows.push([v.runtime, `  reference: ${UNCACHED_REFERENCES[v.reference]}`, int(UNCACHED_N[v.runtime]), int(median(list.map((p) => p.reference.rps))), int(median(list.map((p) => p.limit.rps))), ratio(ref), list.map((p) => p.referenceRatio.toFixed(2)).join(' '), '-', '-']);
    }
    if (v.floor) {
      const fl = median(list.map((p) => p.floorRatio));
      const of = median(list.map((p) => p.floorRatio / p.referenceRatio));
      rows.push([v.runtime, `  ${UNCACHED_REFERENCES[v.floor]}`, int(UNCACHED_N[v.runtime]), int(median(list.map((p) => p.floor.rps))), int(median(list.map((p) => p.limit.rps))), ratio(fl), list.map((p) => p.floorRatio.toFixed(2)).join(' '), ratio(of), '-']);
    }
    return rows;
  };
  out.push(table(['runtime', 'asked as', 'N', 'req/s', 'limit req/s', 'ratio', 'rounds', 'of ceiling', 'goal'], UNCACHED_VARIANTS.flatMap(urow)));
  return out;
}

function report() {
  const T = R.throughput;
  const cachedW = ratios(T, 'wrangler/post');
  const cachedD = ratios(T, 'workerd/post');
  const indexW = ratios(T, 'wrangler/index');
  const indexD = ratios(T, 'workerd/index');
  const refD = ratios(T, 'workerd/limit+kv');
  const favD = ratios(T, 'workerd/favicon');
  const uncW = median(R.uncached.wrangler.map((p) => p.ratio));
  const uncD = median(R.uncached.workerd.map((p) => p.ratio));
  const uncWd = median(R.uncached['wrangler-workers.dev'].map((p) => p.ratio));
  const ceilW = median(R.uncached.wrangler.map((p) => p.referenceRatio));
  const ceilD = median(R.uncached.workerd.map((p) => p.referenceRatio));
  const largestRender = R.render.rows.find((r) => r.label === 'largest real post');
  const gen100 = R.render.rows.find((r) => r.label === 'generated 100 KB');
  const slowW = R.slow.find((s) => s.runtime === 'wrangler');
  const slowD = R.slow.find((s) => s.runtime === 'workerd');
  const wasmGz = R.bundle.wasm.gz + R.bundle.glue.gz;

  const goals = [
    { key: 'cached', name: 'cached post vs limit', figure: `${ratio(cachedW.median)} wrangler, ${ratio(cachedD.median)} workerd`, target: `>= ${ratio(GOALS.cached)}`, ok: cachedW.median >= GOALS.cached && cachedD.median >= GOALS.cached },
    { key: 'ofCeiling', name: 'uncached post vs its ceiling', figure: `${ratio(median(R.uncached.wrangler.map((p) => p.ratio / p.referenceRatio)))} wrangler as a custom domain, ${ratio(median(R.uncached.workerd.map((p) => p.ratio / p.referenceRatio)))} workerd (a workers-rs floor ${ratio(median(R.uncached.workerd.map((p) => p.floorRatio / p.referenceRatio)))})`, target: `>= ${ratio(GOALS.ofCeiling)}`, ok: ['wrangler', 'workerd'].every((id) => median(R.uncached[id].map((p) => p.ratio / p.referenceRatio)) >= GOALS.ofCeiling) },
    { key: 'uncached', name: 'uncached post vs limit', figure: `${ratio(uncW)} wrangler as a custom domain (Cache API; ceiling ${ratio(ceilW)}), ${ratio(uncWd)} as *.workers.dev, ${ratio(uncD)} workerd (ceiling ${ratio(ceilD)})`, target: `>= ${ratio(GOALS.uncached)}`, ok: uncW >= GOALS.uncached && uncWd >= GOALS.uncached && uncD >= GOALS.uncached },
    { key: 'index', name: 'index (Popular Reads) vs limit', figure: `${ratio(indexW.median)} wrangler, ${ratio(indexD.median)} workerd`, target: `>= ${ratio(GOALS.index)}`, ok: indexW.median >= GOALS.index && indexD.median >= GOALS.index },
    { key: 'bytes', name: 'HTML + CSS compressed per page', figure: `max ${kb(R.bytes.max)} gzip -9, ${R.bytes.crossOrigin.length} cross-origin blocking`, target: `<= ${kb(BUDGET)}, 0`, ok: R.bytes.ok },
    { key: 'render', name: 'native render, largest real post', figure: `${us(largestRender.full_us)} front matter to HTML (request ${us(largestRender.request_us)})`, target: `< ${GOALS.renderUs} µs`, ok: largestRender.full_us < GOALS.renderUs },
    { key: 'wasm', name: 'wasm + JS glue, gzip', figure: kb(wasmGz), target: `<= ${kb(GOALS.wasmGz)}`, ok: wasmGz <= GOALS.wasmGz },
    readsGoal(),
    { key: 'slow', name: 'post p99 with a slow counter', figure: `${pct(slowW.delta)} wrangler, ${pct(slowD.delta)} workerd (control: ${pct(slowW.control.delta)}, ${pct(slowD.control.delta)})`, target: `at most ${pct(GOALS.slowP99)}`, ok: slowW.delta <= GOALS.slowP99 && slowD.delta <= GOALS.slowP99 },
    { key: 'check', name: `blog check, ${int(R.sync.count)} posts`, figure: `${(R.sync.check.ms / 1000).toFixed(2)} s`, target: `< ${GOALS.checkMs / 1000} s`, ok: R.sync.check.ms < GOALS.checkMs },
    { key: 'sync', name: 'sync writes only what changed', figure: `no-change: ${R.sync.again.ok ? 'nothing' : `wrote ${int(R.sync.again.written)} posts`}; one edit: ${changes(R.sync.edit.changed)}`, target: 'nothing; 1 post + index', ok: R.sync.first.ok && R.sync.again.ok && R.sync.edit.ok },
  ];
  const g = Object.fromEntries(goals.map((x) => [x.key, x]));

  const M = R.machine;
  const out = [];
  out.push(`Benchmark of the blog worker, ${M.date}`);
  out.push(`machine: ${M.nproc} cores, ${M.cpu}, ${M.memory}, ${M.kernel}; load average ${M.loadStart} at start, ${M.loadEnd} at end`);
  out.push(`tools: node ${M.node}, wrangler ${M.wrangler}, ${M.workerd} (compatibility date ${R.compatibilityDate}), ${M.wrk}, ${M.hyperfine}`);
  out.push(`run: throughput in ${R.pairs} pairs of ${R.seconds} s runs, other comparisons in ${R.rounds} interleaved rounds, ${CONNECTIONS} connections; ${R.elapsedS.toFixed(0)} s in all`);
  out.push('');

  out.push(`1. Requests per second against the limit worker (the same ${int(R.limitPage.bytes)} bytes and ${R.limitPage.headers} headers as /posts/${R.largest.slug}, from memory)`);
  out.push(`   wrk -t1 -c${CONNECTIONS} -d${R.seconds}s; each contender runs back to back with its runtime's limit worker, ${R.pairs} times;`);
  out.push(`   ratio = the contender's req/s over the limit's run beside it, median of the ${R.pairs} pairs (the limit's row: all its runs)`);
  const trow = (id, label, rat, goal) => {
    const list = T.runs[id];
    return [id.split('/')[0], label, int(median(list.map((x) => x.rps))), ms(median(list.map((x) => x.p50))), ms(median(list.map((x) => x.p99))), rat ? ratio(rat.median) : '1.00x', rat ? rat.per.map((x) => x.toFixed(2)).join(' ') : '-', goal ?? '-'];
  };
  out.push(
    table(
      ['runtime', 'contender', 'req/s', 'p50', 'p99', 'ratio', 'pairs', 'goal'],
      [
        trow('wrangler/limit', 'limit worker'),
        trow('wrangler/post', 'cached post', cachedW, `${mark(cachedW.median >= GOALS.cached)} >= 0.90`),
        trow('wrangler/index', 'index + Popular Reads', indexW, `${mark(indexW.median >= GOALS.index)} >= 0.80`),
        trow('workerd/limit', 'limit worker'),
        trow('workerd/post', 'cached post', cachedD, `${mark(cachedD.median >= GOALS.cached)} >= 0.90`),
        trow('workerd/index', 'index + Popular Reads', indexD, `${mark(indexD.median >= GOALS.index)} >= 0.80`),
        trow('workerd/limit+kv', 'limit + 1 KV read (reference)', refD),
        trow('workerd/favicon', 'blog /favicon.svg, no KV (reference)', favD),
      ],
    ),
  );
  out.push('');
  out.push(...uncachedLines());
  out.push('');

  out.push(`2. Bytes: HTML + /style.css compressed, the heaviest page of each kind (budget ${kb(BUDGET)} = one round trip)`);
  out.push(
    table(
      ['kind', 'pages', 'heaviest', 'HTML', 'gzip -9', 'brotli', '+CSS gzip', '+CSS br', 'blocking', 'fits'],
      R.bytes.rows.map((r) => [r.kind, r.pages, r.path, int(r.html), int(r.htmlGz), int(r.htmlBr), int(r.totalGz), int(r.totalBr), r.blocking.join(' ') || '-', mark(r.totalGz <= BUDGET)]),
    ),
  );
  out.push(`   /style.css: ${int(R.bytes.css.bytes)} B, ${int(R.bytes.css.gz)} gzip, ${int(R.bytes.css.br)} brotli. Render-blocking requests to another origin: ${R.bytes.crossOrigin.length ? R.bytes.crossOrigin.join(', ') : 'none'}.`);
  out.push('');

  out.push('3. Native render, post file to finished page (parse_post + pages::post; highlighting, done once per sync, apart), median per run');
  out.push(R.render.text.split('\n').slice(1).map((l) => `   ${l}`).join('\n'));
  out.push(`   ${mark(g.render.ok)} goal < ${GOALS.renderUs} µs for the largest real post, front matter to HTML: ${us(largestRender.full_us)} (parse_post ${us(largestRender.parse_us)}, then pages::post); an uncached request (record deserialised + pages::post) ${us(largestRender.request_us)}; highlighting ${us(largestRender.highlight_us)}, once per sync.`);
  out.push('');

  const b = R.bundle;
  out.push('4. Worker size');
  out.push(
    table(
      ['part', 'bytes', 'gzip -9'],
      [
        ['build/index_bg.wasm', int(b.wasm.bytes), int(b.wasm.gz)],
        ['JS glue (index.js + src/entry.mjs)', int(b.glue.bytes), int(b.glue.gz)],
        ['wasm + glue', int(b.wasm.bytes + b.glue.bytes), int(wasmGz)],
        ['wrangler dry-run bundle (all files)', int(b.dryRun.bytes), int(b.dryRun.gz)],
      ],
    ),
  );
  out.push(`   wrangler says: ${b.wranglerSays ? `Total Upload ${b.wranglerSays.kib} KiB / gzip ${b.wranglerSays.gzKib} KiB` : '(not printed)'}. ${mark(g.wasm.ok)} goal gzip <= 500 KB.`);
  out.push('');

  out.push(...readsLines(g.reads));
  out.push('');

  out.push(...slowLines());
  out.push('');

  const s = R.sync;
  out.push(`7. Sync: ${int(s.count)} generated posts (${(s.bytes / 1024 / 1024).toFixed(1)} MB of Markdown)`);
  out.push(
    table(
      ['step', 'time', 'what it printed', 'as expected'],
      [
        ['blog check', `${(s.check.ms / 1000).toFixed(3)} s`, `${s.check.how}; min ${(s.check.min / 1000).toFixed(3)} s`, mark(g.check.ok)],
        ['first blog sync', `${(s.first.ms / 1000).toFixed(1)} s`, `${s.first.summary}; ${s.first.cards.text}`, mark(s.first.ok)],
        ['sync, nothing changed', `${(s.again.ms / 1000).toFixed(1)} s`, `${s.again.summary}; ${s.again.cards.text}`, mark(s.again.ok)],
        [`sync after editing ${s.edit.edited}`, `${(s.edit.ms / 1000).toFixed(1)} s`, `${changes(s.edit.changed)}; ${s.edit.summary}; ${s.edit.cards.text}`, mark(s.edit.ok)],
      ],
    ),
  );
  out.push(`   \`wrangler kv key list --local\` (how sync sees the namespace) returned ${int(s.keys.listed)} of the ${int(s.keys.stored)} keys.`);
  out.push('');

  const scale = scaleLines();
  out.push(...scale.lines);
  out.push('');
  goals.push(scale.goal);

  out.push('Goals');
  out.push(table(['goal', 'figure', 'target', ''], goals.map((x) => [x.name, x.figure, x.target, mark(x.ok)])));
  out.push('');

  const summary =
    `bench: cached post ${ratio(cachedW.median)} limit (workerd ${ratio(cachedD.median)}) ${mark(g.cached.ok)}, ` +
    `uncached ${ratio(uncW)} (workers.dev ${ratio(uncWd)}, workerd ${ratio(uncD)}) ${mark(g.uncached.ok)}, ` +
    `index ${ratio(indexW.median)} (${ratio(indexD.median)}) ${mark(g.index.ok)}, ` +
    `14KB ${R.bytes.ok ? 'ok' : 'over'} (max ${(R.bytes.max / 1024).toFixed(1)}KB) ${mark(g.bytes.ok)}, ` +
    `render ${us(largestRender.full_us).replace(' ', '')}@largest (${us(gen100.full_us).replace(' ', '')}@100KB, request ${us(largestRender.request_us).replace(' ', '')}) ${mark(g.render.ok)}, ` +
    `wasm ${(wasmGz / 1024).toFixed(0)}KB gz ${mark(g.wasm.ok)}, ` +
    `${int(R.counter[0].rps)} reads/s into the counter @batch ${R.counter[0].batch} (${int(R.counter[1].rps)} @1, pages ${int(R.reads.rps)}) ${R.counter.every((c) => c.exact) && R.reads.exact ? 'exact' : 'INEXACT'} ${mark(g.reads.ok)}, ` +
    `DO-slow p99 ${pct(slowW.delta)} (${pct(slowD.delta)}; A/A noise ${pct(slowW.control.delta)}, ${pct(slowD.control.delta)}) ${mark(g.slow.ok)}, ` +
    `check ${(R.sync.check.ms / 1000).toFixed(2)}s ${mark(g.check.ok)}, ` +
    `sync ${R.sync.first.ok && R.sync.again.ok && R.sync.edit.ok ? 'writes only changes' : 'WROTE TOO MUCH'} ${mark(g.sync.ok)}, ` +
    `cold post ${scale.goal.figure} at ${int(R.scale.at(-1).count)} vs ${int(R.scale[0].count)} posts ${mark(scale.goal.ok)}`;

  const text = out.join('\n');
  process.stdout.write(`${text}\n${summary}\n`);
  writeResults(text, summary);
}

function writeResults(text, summary) {
  const M = R.machine;
  const T = R.throughput;
  const perPair = Object.entries(T.paired)
    .map(([id, limits]) => `| ${id} | ${T.runs[id].map((x, i) => `${int(x.rps)} / ${int(limits[i].rps)} (${(x.rps / limits[i].rps).toFixed(2)})`).join(' | ')} |`)
    .join('\n');
  const unc = UNCACHED_VARIANTS
    .flatMap((v) => R.uncached[v.id].map((p, i) => `| ${v.id} | ${i + 1} | ${int(p.blog.n)} | ${int(p.blog.rps)} | ${int(p.limit.rps)} | ${p.ratio.toFixed(2)} | ${p.reference ? `${UNCACHED_REFERENCES[v.reference]}: ${int(p.reference.rps)} (${p.referenceRatio.toFixed(2)})` : '-'} |`))
    .join('\n');
  const md = `# Benchmark results

Written by \`make bench\` (bench/run.mjs); see bench/README.md for the method.

## Machine

| | |
|---|---|
| date | ${M.date} |
| cores (\`nproc\`) | ${M.nproc} |
| CPU (/proc/cpuinfo) | ${M.cpu} |
| memory | ${M.memory} |
| kernel | ${M.kernel} |
| node | ${M.node} |
| wrangler | ${M.wrangler} |
| workerd | ${M.workerd} (worker compatibility date ${R.compatibilityDate}) |
| wrk | ${M.wrk} |
| hyperfine | ${M.hyperfine} |
| load average (1, 5, 15 min) | ${M.loadStart} at start, ${M.loadEnd} at end |
| run | throughput: ${R.pairs} pairs of ${R.seconds} s runs; other comparisons: ${R.rounds} rounds; ${CONNECTIONS} connections; ${R.elapsedS.toFixed(0)} s in all |

## Report

\`\`\`text
${text}
${summary}
\`\`\`

## Every run

Throughput, each pair: contender req/s / the limit's req/s beside it (ratio); pairs alternate the runtimes and rotate contenders:

| contender | ${Array.from({ length: R.pairs }, (_, i) => `pair ${i + 1}`).join(' | ')} |
|---|${'---|'.repeat(R.pairs)}
${perPair}

Uncached renders:

| runtime | round | distinct posts | post req/s | limit req/s | ratio | reference req/s (ratio) |
|---|---|---|---|---|---|---|
${unc}
`;
  fs.writeFileSync(path.join(ROOT, 'bench/RESULTS.md'), md);
}

main().catch((e) => {
  console.error(`bench failed: ${e.stack ?? e}`);
  process.exit(1);
});
