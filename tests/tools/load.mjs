// A small load generator: a list of requests sent over a fixed number of keep-alive
// connections, with latency percentiles and a status histogram.
//
// As a module:
//   const mix = await buildMix(base, { total: 20000 });
//   const report = await runLoad(base, mix.requests, { connections: 64 });
//   console.log(formatReport(report));
//
// From the command line, against a running site (`make dev`):
//   node tests/tools/load.mjs http://127.0.0.1:8787 [--requests 20000] [--connections 64] [--seed 1]

import http from 'node:http';
import { fileURLToPath } from 'node:url';

export const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
export const BOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

/** mulberry32: a seeded generator, so a mix can be rebuilt exactly. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A distinct documentation-style address for reader number n (10.x.y.z). */
const readerIp = (n) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

/**
 * A shuffled mix of `total` requests against a site, read from its index page:
 * countable reads (a browser, a new reader each time), and what must not count (the same
 * readers again, crawlers, HEAD, prefetches), plus the index, feeds, tags, badges, assets
 * and 404s. Returns { requests: [{ kind, method, path, headers }], countable: { path: n } }.
 */
export async function buildMix(base, { total = 20000, seed = 1 } = {}) {
  const random = rng(seed);
  const home = await fetch(`${base}/`).then((r) => r.text());
  const posts = [...new Set([...home.matchAll(/<h3><a href="(\/posts\/[^"]+)">/g)].map((m) => m[1]))];
  const tags = [...new Set([...home.matchAll(/href="(\/tags\/[^"/]+)"/g)].map((m) => m[1]))];
  if (!posts.length) throw new Error(`no posts on ${base}/`);
  const pick = (list) => list[Math.floor(random() * list.length)];
  // Posts are read unevenly, so a count that lands on the wrong post shows.
  const weights = posts.map((_, i) => i + 1);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const weightedPost = () => {
    let r = random() * weightSum;
    for (const [i, w] of weights.entries()) if ((r -= w) < 0) return posts[i];
    return posts.at(-1);
  };
  const shares = [
    ['read', 0.3],
    ['repeat', 0.05],
    ['bot', 0.05],
    ['head', 0.05],
    ['prefetch', 0.03],
    ['index', 0.2],
    ['feed', 0.1],
    ['tags', 0.05],
    ['badge', 0.05],
    ['missing', 0.07],
    ['asset', 0.05],
  ];
  const requests = [];
  const countable = Object.fromEntries(posts.map((p) => [p, 0]));
  const readers = []; // [ip, path] of every countable read, for repeats
  let nextReader = 1;
  const browser = (ip, extra = {}) => ({ 'user-agent': BROWSER, 'cf-connecting-ip': ip, ...extra });
  for (const [kind, share] of shares) {
    const n = Math.round(total * share);
    for (let i = 0; i < n; i++) {
      let req;
      switch (kind) {
        case 'read': {
          const path = weightedPost();
          const ip = readerIp(nextReader++);
          readers.push([ip, path]);
          countable[path]++;
          req = { method: 'GET', path, headers: browser(ip) };
          break;
        }
        case 'repeat': {
          const [ip, path] = pick(readers);
          req = { method: 'GET', path, headers: browser(ip) };
          break;
        }
        case 'bot':
          req = { method: 'GET', path: weightedPost(), headers: { 'user-agent': BOT, 'cf-connecting-ip': readerIp(nextReader++) } };
          break;
        case 'head':
          req = { method: 'HEAD', path: weightedPost(), headers: browser(readerIp(nextReader++)) };
          break;
        case 'prefetch':
          req = { method: 'GET', path: weightedPost(), headers: browser(readerIp(nextReader++), { 'sec-purpose': 'prefetch' }) };
          break;
        case 'index':
          req = { method: 'GET', path: random() < 0.8 ? '/' : '/?utm_source=load', headers: browser(readerIp(nextReader++)) };
          break;
        case 'feed':
          req = { method: 'GET', path: pick(['/feed.xml', '/rss.xml', '/feed.json', ...tags.map((t) => `${t}/feed.xml`)]), headers: { 'user-agent': 'FeedReader/1.0' } };
          break;
        case 'tags':
          req = { method: 'GET', path: pick(['/tags', ...tags]), headers: browser(readerIp(nextReader++)) };
          break;
        case 'badge':
          req = { method: 'GET', path: `${pick(posts)}/reads.svg`, headers: browser(readerIp(nextReader++)) };
          break;
        case 'missing':
          req = { method: 'GET', path: `/posts/no-such-post-${Math.floor(random() * 1000)}`, headers: browser(readerIp(nextReader++)) };
          break;
        case 'asset':
          req = { method: 'GET', path: pick(['/style.css', '/favicon.svg', '/robots.txt', '/sitemap.xml', '/site.webmanifest']), headers: {} };
          break;
      }
      requests.push({ kind, ...req });
    }
  }
  // A repeat may arrive before the read it repeats: either way, exactly one of the two counts.
  for (let i = requests.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [requests[i], requests[j]] = [requests[j], requests[i]];
  }
  return { requests, countable, posts };
}

/**
 * Sends `requests` over `connections` keep-alive connections, each connection one request at
 * a time. Resolves { total, ms, rps, latency: { p50, p90, p99, max }, statuses, errors, byKind }.
 */
export async function runLoad(base, requests, { connections = 64, timeoutMs = 30_000 } = {}) {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const latencies = [];
  const statuses = {};
  const errors = [];
  const byKind = {};
  let next = 0;
  const one = (req) =>
    new Promise((resolve) => {
      const started = process.hrtime.bigint();
      const r = http.request(
        { host: url.hostname, port: url.port, path: req.path, method: req.method, headers: req.headers, agent },
        (res) => {
          res.on('data', () => {});
          res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
          res.on('error', (e) => resolve({ error: e }));
        },
      );
      r.setTimeout(timeoutMs, () => r.destroy(new Error('timeout')));
      r.on('error', (e) => resolve({ error: e }));
      r.end();
    });
  const started = Date.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < requests.length) {
        const req = requests[next++];
        const result = await one(req);
        const kind = (byKind[req.kind] ??= { n: 0, statuses: {} });
        kind.n++;
        if (result.error) {
          errors.push({ path: req.path, method: req.method, code: result.error.code, message: result.error.message });
          kind.statuses.error = (kind.statuses.error ?? 0) + 1;
          continue;
        }
        latencies.push(result.ms);
        statuses[result.status] = (statuses[result.status] ?? 0) + 1;
        kind.statuses[result.status] = (kind.statuses[result.status] ?? 0) + 1;
      }
    }),
  );
  const ms = Date.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    total: requests.length,
    connections,
    ms,
    rps: requests.length / (ms / 1000),
    latency: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: latencies.at(-1) ?? NaN },
    statuses,
    errors,
    byKind,
  };
}

export function formatReport(r) {
  const f = (x) => x.toFixed(1);
  const kinds = Object.entries(r.byKind)
    .map(([k, v]) => `${k} ${v.n} (${Object.entries(v.statuses).map(([s, n]) => `${s}: ${n}`).join(', ')})`)
    .join('; ');
  return [
    `${r.total} requests over ${r.connections} connections in ${f(r.ms / 1000)} s: ${Math.round(r.rps)} requests/s`,
    `latency p50 ${f(r.latency.p50)} ms, p90 ${f(r.latency.p90)} ms, p99 ${f(r.latency.p99)} ms, max ${f(r.latency.max)} ms`,
    `statuses: ${Object.entries(r.statuses).map(([s, n]) => `${s}: ${n}`).join(', ')}; connection errors: ${r.errors.length}`,
    `by kind: ${kinds}`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const base = args.find((a) => /^https?:/.test(a)) ?? 'http://127.0.0.1:8787';
  const opt = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const mix = await buildMix(base, { total: opt('requests', 20000), seed: opt('seed', 1) });
  const report = await runLoad(base, mix.requests, { connections: opt('connections', 64) });
  console.log(formatReport(report));
  if (report.errors.length) console.log(report.errors.slice(0, 10));
}
