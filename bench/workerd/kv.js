// An in-memory Workers KV namespace for workerd run directly: workerd's `kvNamespace`
// binding speaks HTTP to a service, and this is that service. It starts with the records
// `blog sync` wrote (bench/out/.../kv.json, captured by bench/kv-capture.mjs) and accepts
// PUT and DELETE, so the benchmark can publish a new content version the way a sync would.
import records from 'kv.json';

// Values are kept as bytes, as a KV store holds them (text as UTF-8, files from base64): a
// read sends them as they are.
const encoder = new TextEncoder();
const bytesOf = (r) => (r.base64 ? Uint8Array.from(atob(r.value), (c) => c.charCodeAt(0)) : encoder.encode(r.value));
const store = new Map(records.map((r) => [r.key, { ...r, value: bytesOf(r) }]));

function keyOf(url) {
  const raw = url.pathname.slice(1);
  return url.searchParams.get('urlencoded') === 'true' ? decodeURIComponent(raw) : raw;
}

// What the worker read, for the scale figures (bench/scale.mjs), and a delay added to each
// read, as a KV location far from its data would: `__bench/` paths are the benchmark's, on the
// kv-admin socket (no blog key starts so).
let reads = 0;
let bytes = 0;
let delayMs = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function bench(url, method) {
  if (url.pathname === '/__bench/reads' && method === 'GET') {
    const answer = Response.json({ reads, bytes });
    reads = 0;
    bytes = 0;
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
    if (url.pathname.startsWith('/__bench/')) return bench(url, request.method);
    const key = keyOf(url);
    switch (request.method) {
      case 'GET': {
        if (delayMs > 0) await sleep(delayMs);
        if (key === '') {
          const prefix = url.searchParams.get('prefix') ?? '';
          const keys = [...store.values()]
            .filter((r) => r.key.startsWith(prefix))
            .map((r) => ({ name: r.key, metadata: r.metadata === undefined ? undefined : JSON.stringify(r.metadata) }));
          return Response.json({ keys, list_complete: true, cacheStatus: null });
        }
        const record = store.get(key);
        reads++;
        if (!record) return new Response('Not Found', { status: 404 });
        bytes += record.value.length;
        const headers = record.metadata === undefined ? {} : { 'CF-KV-Metadata': JSON.stringify(record.metadata) };
        return new Response(record.value, { headers });
      }
      case 'PUT': {
        const metadata = request.headers.get('CF-KV-Metadata');
        store.set(key, { key, value: new Uint8Array(await request.arrayBuffer()), metadata: metadata ? JSON.parse(metadata) : undefined });
        return new Response(null);
      }
      case 'DELETE':
        store.delete(key);
        return new Response(null);
      default:
        return new Response('Method not allowed', { status: 405 });
    }
  },
};
