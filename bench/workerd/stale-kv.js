// An in-memory Workers KV namespace that is only eventually consistent, as the real one is
// between locations: for a while after each write (STALE_MS), a read of that key may still
// see what the key held before, chosen afresh at every read. It is a drop-in for kv.js (the
// same module name in blog.capnp, the same wire for workerd's `kvNamespace` binding, the
// same `__bench/` paths), started from the same kv.json; tests/e2e/stale-kv.test.mjs runs
// the real `blog sync` against it through tests/tools/stale-session.mjs.
//
// The model: every write (PUT or DELETE) of a key ends the state it replaces, and that state
// stays visible for STALE_MS after its end. A read draws, with probability P, one of the
// states still visible (uniformly), and otherwise the current one. So different keys can be
// fresh or stale in any combination, a new key may read as missing, a deleted one may still
// read as its old value, and two reads of one key a moment apart may differ, as two
// locations do. Key listings (used only by the sync, over the kv-admin socket) are always
// current, as the sync's view of the namespace is.
//
// Admin paths on the kv-admin socket (no blog key starts with `__`):
//   PUT /__stale/config?ms=4000&p=0.5&seed=1  staleness on (ms=0: off); starts the draws
//                                              from `seed` and forgets the history, as if
//                                              every write so far had reached everywhere
//   GET /__stale/stats                         reads, stale answers, writes, the config
//   GET /__stale/seq                           the number of the last read logged
//   GET /__stale/reads?after=A&upto=B          reads A+1..B: [seq, key, answer, ageMs, at]
//   GET /__stale/writes                        writes since the config: [seq, at, op, key]
import records from 'kv.json';

// Values are kept as bytes, as a KV store holds them (text as UTF-8, files from base64): a
// read sends them as they are. A state is a record { value, metadata } or null (no key).
const encoder = new TextEncoder();
const bytesOf = (r) => (r.base64 ? Uint8Array.from(atob(r.value), (c) => c.charCodeAt(0)) : encoder.encode(r.value));
const store = new Map(records.map((r) => [r.key, { value: bytesOf(r), metadata: r.metadata }]));

/** Per key, the states writes replaced and when: [{ state, endedAt }], oldest first. */
const history = new Map();

/** mulberry32, as tests/tools/load.mjs: a seeded stream of draws, so a run can be repeated. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const config = { ms: 0, p: 0.5, seed: 1 };
let draw = rng(config.seed);

// What the binding read, for the test's diagnostics: one entry per read, numbered, with what
// it was answered (`current`; `absent`, the current state being no key; `previous`, an older
// value; `missing`, the key not there yet or for a while) and how long ago the answered
// state ended (its replacing write's age), and when (the KV's clock). Bounded, oldest
// dropped first.
const LOG_LIMIT = 200_000;
let readLog = [];
let readSeq = 0;
let writeLog = [];
let writeSeq = 0;
const counts = { reads: 0, current: 0, absent: 0, previous: 0, missing: 0, writes: 0, deletes: 0 };

function resetHistory() {
  history.clear();
  readLog = [];
  writeLog = [];
  for (const k of Object.keys(counts)) counts[k] = 0;
}

/** Records that `key` is about to leave `store.get(key)` behind. */
function remember(key, op) {
  const now = Date.now();
  writeLog.push([++writeSeq, now, op, key]);
  if (config.ms <= 0) return;
  const past = (history.get(key) ?? []).filter((h) => now - h.endedAt < config.ms);
  past.push({ state: store.get(key) ?? null, endedAt: now });
  history.set(key, past);
}

/** What one read of `key` sees: { state, answer, ageMs }. */
function readState(key) {
  const current = store.get(key) ?? null;
  const fresh = { state: current, answer: current ? 'current' : 'absent', ageMs: null };
  const now = Date.now();
  const visible = (history.get(key) ?? []).filter((h) => now - h.endedAt < config.ms);
  if (visible.length === 0) {
    history.delete(key);
    return fresh;
  }
  if (draw() >= config.p) return fresh;
  const pick = visible[Math.floor(draw() * visible.length)];
  return { state: pick.state, answer: pick.state ? 'previous' : 'missing', ageMs: now - pick.endedAt };
}

function logRead(key, answer, ageMs) {
  counts.reads++;
  counts[answer]++;
  readLog.push([++readSeq, key, answer, ageMs, Date.now()]);
  if (readLog.length > LOG_LIMIT) readLog = readLog.slice(-LOG_LIMIT / 2);
}

function keyOf(url) {
  const raw = url.pathname.slice(1);
  return url.searchParams.get('urlencoded') === 'true' ? decodeURIComponent(raw) : raw;
}

function stale(url, method) {
  const q = url.searchParams;
  if (url.pathname === '/__stale/config' && method === 'PUT') {
    config.ms = Number(q.get('ms') ?? config.ms);
    config.p = Number(q.get('p') ?? config.p);
    config.seed = Number(q.get('seed') ?? config.seed);
    draw = rng(config.seed);
    resetHistory();
    return Response.json(config);
  }
  if (url.pathname === '/__stale/stats' && method === 'GET') {
    return Response.json({ ...counts, config, keys: store.size, keysWithHistory: history.size });
  }
  if (url.pathname === '/__stale/seq' && method === 'GET') return Response.json({ seq: readSeq });
  if (url.pathname === '/__stale/reads' && method === 'GET') {
    const after = Number(q.get('after') ?? 0);
    const upto = Number(q.get('upto') ?? readSeq);
    return Response.json(readLog.filter(([seq]) => seq > after && seq <= upto));
  }
  if (url.pathname === '/__stale/writes' && method === 'GET') return Response.json(writeLog);
  return new Response('Not Found', { status: 404 });
}

// The benchmark's paths, as kv.js has them: what the worker read, and a delay added to each
// read, as a KV location far from its data would.
let benchReads = 0;
let benchBytes = 0;
let delayMs = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function bench(url, method) {
  if (url.pathname === '/__bench/reads' && method === 'GET') {
    const answer = Response.json({ reads: benchReads, bytes: benchBytes });
    benchReads = 0;
    benchBytes = 0;
    return answer;
  }
  if (url.pathname === '/__bench/delay' && method === 'PUT') {
    delayMs = Number(url.searchParams.get('ms') ?? 0);
    return new Response(null);
  }
  return new Response('Not Found', { status: 404 });
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname.startsWith('/__stale/')) return stale(url, request.method);
    if (url.pathname.startsWith('/__bench/')) return bench(url, request.method);
    const key = keyOf(url);
    switch (request.method) {
      case 'GET': {
        if (delayMs > 0) await sleep(delayMs);
        if (key === '') {
          // The list, current: metadata as JSON text, as workerd's binding expects it.
          const prefix = url.searchParams.get('prefix') ?? '';
          const keys = [...store.entries()]
            .filter(([name]) => name.startsWith(prefix))
            .map(([name, r]) => ({ name, metadata: r.metadata === undefined ? undefined : JSON.stringify(r.metadata) }));
          return Response.json({ keys, list_complete: true, cacheStatus: null });
        }
        const { state, answer, ageMs } = readState(key);
        logRead(key, answer, ageMs);
        benchReads++;
        if (!state) return new Response('Not Found', { status: 404 });
        benchBytes += state.value.length;
        const headers = state.metadata === undefined ? {} : { 'CF-KV-Metadata': JSON.stringify(state.metadata) };
        return new Response(state.value, { headers });
      }
      case 'PUT': {
        const metadata = request.headers.get('CF-KV-Metadata');
        const value = new Uint8Array(await request.arrayBuffer());
        remember(key, 'put');
        counts.writes++;
        store.set(key, { value, metadata: metadata ? JSON.parse(metadata) : undefined });
        return new Response(null);
      }
      case 'DELETE':
        remember(key, 'delete');
        counts.deletes++;
        store.delete(key);
        return new Response(null);
      default:
        return new Response('Method not allowed', { status: 405 });
    }
  },
};
