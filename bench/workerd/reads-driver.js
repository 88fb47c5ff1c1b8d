// Bench-only: drives the blog's ReadCounter Durable Objects directly, with exactly the calls
// the Worker's counter client makes (src/counter/client.rs, `flush` and `send`), so the bench can
// measure the counting path apart from how many page requests this machine can serve.
// Not part of the product: workerd runs it beside the blog (bench/workerd/blog.capnp), bound
// to the blog service's ReadCounter namespace, so it reaches the very objects the blog uses.
//
//   POST /prepare?run=ID&n=N&batch=B&slug=SLUG&ua=UA
//       N distinct readers of SLUG; reader i's fingerprint is what the Worker computes for a
//       request from address 2001:db8:RUN::i with that user agent (readers::reader_fingerprint:
//       SHA-256 of "ip\nua", first 16 bytes, hex). Hits are grouped by shard as `flush` groups
//       them (readers::shard_of: first 8 hex digits mod 8) and cut into batches of at most B,
//       each with a fresh id of 12 random bytes in hex (`random_hex(12)`). Not timed.
//   POST /send?run=ID&inflight=K
//       Sends the prepared batches, K calls under way at any time, taking shards in turn.
//       Each call is the Worker's: POST https://counter/hits, body {"id", "hits": [{"slug",
//       "reader"}]}, to the stub of idFromName("all-posts") for shard 0, "shard-N" otherwise;
//       answer 200 with {"counted": n}. Answers {sent, batches, counted, failed, ms}.
//   POST /resend?run=ID
//       Sends the first prepared batch of every shard again, same id and hits, as the Worker
//       retries a batch whose answer was lost: the object must count none of it again.

const SHARDS = 8;
const shardName = (shard) => (shard === 0 ? 'all-posts' : `shard-${shard}`);
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

async function fingerprint(ip, ua) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${ip}\n${ua}`));
  return hex(new Uint8Array(digest).subarray(0, 16));
}

const shardOf = (fp) => {
  const prefix = Number.parseInt(fp.slice(0, 8), 16);
  return (Number.isNaN(prefix) ? 0 : prefix) % SHARDS;
};

const batchId = () => hex(crypto.getRandomValues(new Uint8Array(12)));

/** Prepared runs, by id: batches in sending order ({ shard, body, hits }). */
const runs = new Map();

async function prepare({ run, n, batch, slug, ua }) {
  const byShard = Array.from({ length: SHARDS }, () => []);
  for (let i = 0; i < n; i++) {
    const ip = `2001:db8:${run.toString(16)}::${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}`;
    const reader = await fingerprint(ip, ua);
    byShard[shardOf(reader)].push({ slug, reader });
  }
  const perShard = byShard.map((hits, shard) => {
    const batches = [];
    for (let at = 0; at < hits.length; at += batch) {
      const part = hits.slice(at, at + batch);
      batches.push({ shard, hits: part.length, body: JSON.stringify({ id: batchId(), hits: part }) });
    }
    return batches;
  });
  // Shards in turn, as one flush sends one batch to each shard at once.
  const order = [];
  for (let i = 0; perShard.some((b) => i < b.length); i++) for (const b of perShard) if (i < b.length) order.push(b[i]);
  runs.set(run, { order, first: perShard.map((b) => b[0]).filter(Boolean) });
  return { readers: n, batches: order.length, perShard: byShard.map((h) => h.length) };
}

async function call(env, b) {
  const stub = env.READS.get(env.READS.idFromName(shardName(b.shard)));
  const res = await stub.fetch('https://counter/hits', { method: 'POST', body: b.body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`shard ${b.shard} answered ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text).counted;
}

async function send(env, batches, inflight) {
  let next = 0;
  let counted = 0;
  let sent = 0;
  const failed = [];
  const started = Date.now();
  const lane = async () => {
    while (next < batches.length) {
      const b = batches[next++];
      try {
        // Not `counted += await ...`: that reads `counted` before the await and loses the
        // other lanes' answers that arrive meanwhile.
        const n = await call(env, b);
        counted += n;
        sent += b.hits;
      } catch (e) {
        failed.push(String(e.message ?? e));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inflight, batches.length) }, lane));
  // Date.now() in workerd moves on only across I/O; the last answer was I/O, so this is the end.
  return { sent, batches: batches.length, counted, failed: failed.length, errors: failed.slice(0, 3), ms: Date.now() - started };
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = (k, d) => url.searchParams.get(k) ?? d;
    const run = Number(q('run', '0'));
    try {
      if (request.method === 'POST' && url.pathname === '/prepare') {
        const n = Number(q('n', '0'));
        const batch = Number(q('batch', '1'));
        if (!(n > 0 && batch > 0)) return new Response('n and batch must be positive', { status: 400 });
        return Response.json(await prepare({ run, n, batch, slug: q('slug', ''), ua: q('ua', '') }));
      }
      const prepared = runs.get(run);
      if (request.method === 'POST' && url.pathname === '/send') {
        if (!prepared) return new Response(`run ${run} not prepared`, { status: 400 });
        return Response.json(await send(env, prepared.order, Number(q('inflight', '8'))));
      }
      if (request.method === 'POST' && url.pathname === '/resend') {
        if (!prepared) return new Response(`run ${run} not prepared`, { status: 400 });
        const result = await send(env, prepared.first, SHARDS);
        runs.delete(run);
        return Response.json(result);
      }
      return new Response('not found', { status: 404 });
    } catch (e) {
      return new Response(String(e.stack ?? e), { status: 500 });
    }
  },
};
