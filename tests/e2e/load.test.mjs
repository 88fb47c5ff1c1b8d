// Load: 20,000 mixed requests over 64 keep-alive connections against one site. No 5xx, no
// connection error, and afterwards every post's count is exactly the number of countable
// reads sent to it: none lost in batching, none counted twice, none from what must not
// count (the same reader again, crawlers, HEAD, prefetches). Prints the figures.
// Tools: tests/tools/load.mjs (also runs on its own against `make dev`).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readsShown, sleep, startSite } from './support.mjs';
import { buildMix, formatReport, runLoad } from '../tools/load.mjs';

const TOTAL = Number(process.env.LOAD_REQUESTS ?? 20_000);
const CONNECTIONS = 64;

let site;
before(async () => {
  site = await startSite();
});
after(() => site?.stop());

test(`${TOTAL} mixed requests over ${CONNECTIONS} connections: no 5xx, no errors, exact counts`, async () => {
  const mix = await buildMix(site.base, { total: TOTAL, seed: 7 });
  assert.ok(mix.requests.length >= 20_000 || process.env.LOAD_REQUESTS, `only ${mix.requests.length} requests`);
  const report = await runLoad(site.base, mix.requests, { connections: CONNECTIONS });
  console.log(formatReport(report));

  assert.deepEqual(report.errors.slice(0, 5), [], `${report.errors.length} connection errors\n${site.log(3000)}`);
  const serverErrors = Object.entries(report.statuses).filter(([s]) => Number(s) >= 500);
  assert.deepEqual(serverErrors, [], `5xx answers\n${site.log(3000)}`);
  // Every kind of request got the answer it should.
  const want = { read: 200, repeat: 200, bot: 200, head: 200, prefetch: 200, index: 200, feed: 200, tags: 200, badge: 200, missing: 404, asset: 200 };
  for (const [kind, status] of Object.entries(want)) {
    assert.deepEqual(Object.keys(report.byKind[kind].statuses), [String(status)], `${kind}: ${JSON.stringify(report.byKind[kind].statuses)}`);
  }

  // The counts: poll every badge until all match (the isolate refreshes counts every 10 s).
  const expected = mix.countable;
  let shown = {};
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    shown = Object.fromEntries(await Promise.all(Object.keys(expected).map(async (p) => [p, await readsShown(site, p)])));
    for (const [p, n] of Object.entries(shown)) {
      assert.ok(n === null || n <= expected[p], `${p}: ${n} reads counted, only ${expected[p]} countable reads were sent`);
    }
    if (Object.keys(expected).every((p) => shown[p] === expected[p])) break;
    await sleep(1000);
  }
  assert.deepEqual(shown, expected, 'counts after the load');
  // Stable: a refresh later, nothing more arrived.
  await sleep(11_000);
  for (const [p, n] of Object.entries(expected)) assert.equal(await readsShown(site, p), n, p);
  const reads = Object.values(expected).reduce((a, b) => a + b, 0);
  console.log(`counted exactly ${reads} countable reads over ${Object.keys(expected).length} posts: ${Object.values(expected).join(', ')}`);
});
