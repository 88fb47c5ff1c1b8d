// Read counting under concurrency: N distinct readers reading one post at once are counted
// exactly N times, a reader reading again the same day is not counted again, Popular Reads
// follows the counts, and everything survives a restart of the dev server.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { get, getIndex, sleep, startSite, waitFor } from './harness.mjs';

const N = 200;
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
/** Counts refresh in each isolate every 10 s: a settled count must hold past that. */
const SETTLE_MS = 11_000;

let site;
let a; // the oldest post: last in a fresh Popular Reads

before(async () => {
  site = await startSite();
});
after(() => site?.stop());

const reader = (i) => ({ 'user-agent': BROWSER, 'cf-connecting-ip': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` });

/** `n` concurrent GETs of `href` by readers `first..first+n`; every one must answer 200. */
async function burst(href, n, first = 0) {
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      fetch(`${site.base}${href}`, { headers: reader(first + i), signal: AbortSignal.timeout(30_000) }).then(
        async (res) => ({ status: res.status, body: await res.text() }),
        (e) => ({ status: `${e.name}: ${e.cause?.code ?? e.message}`, body: '' }),
      ),
    ),
  );
  const failed = results.filter((r) => r.status !== 200);
  assert.equal(failed.length, 0, `${failed.length} of ${n} GET ${href} failed: ${JSON.stringify(failed.slice(0, 3).map((r) => r.status))}\n${site.log()}`);
  for (const r of results) assert.match(r.body, /<h1>/, 'each answer is the post page');
}

async function readsOf(href) {
  const { status, body } = await get(`${site.base}${href}/reads.svg`);
  assert.equal(status, 200);
  return Number(/>([\d,]+) reads?<\/text>/.exec(body)[1].replace(/,/g, ''));
}

/** Waits for the count to reach `n`, then checks it stays exactly `n`. */
async function expectReads(href, n, what) {
  await waitFor(async () => (await readsOf(href)) === n, {
    timeoutMs: 40_000,
    intervalMs: 500,
    describe: async () => `${what}: ${href} shows ${await readsOf(href)} reads, expected ${n}`,
  });
  await sleep(SETTLE_MS);
  assert.equal(await readsOf(href), n, `${what}: the count moved after settling`);
}

test('a fresh site ranks by date, with the oldest post outside Popular Reads', async () => {
  const index = await getIndex(site);
  a = index.posts.at(-1);
  assert.deepEqual(index.popular.map((p) => p.href), index.posts.slice(0, 5).map((p) => p.href));
  assert.equal(await readsOf(a.href), 0);
});

test(`${N} concurrent reads by ${N} readers all answer 200 and count exactly ${N}`, async () => {
  await burst(a.href, N);
  await expectReads(a.href, N, `after ${N} reads`);
  // Popular Reads asks the counter for its own top (a badge asks for its post alone), kept
  // fresh for STATS_FRESH_MS: the front page shows the new order once its counts are
  // refreshed, while a stale copy is served during the refresh.
  await waitFor(async () => (await getIndex(site)).popular[0]?.href === a.href, {
    timeoutMs: 30_000,
    intervalMs: 500,
    describe: async () => `the most-read post leads Popular Reads: ${JSON.stringify((await getIndex(site)).popular.map((p) => p.href))}`,
  });
});

test('the same readers reading again the same day are not counted again', async () => {
  await burst(a.href, 50);
  await expectReads(a.href, N, 'after 50 repeat reads');
});

test('counts survive a restart of the dev server', async () => {
  await site.restart();
  assert.equal(await readsOf(a.href), N);
  assert.equal((await getIndex(site)).popular[0].href, a.href);
  await burst(a.href, 1, N);
  await expectReads(a.href, N + 1, 'after the restart and one new reader');
});
