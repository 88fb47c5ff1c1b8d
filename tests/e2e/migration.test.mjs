// Upgrading the read counter keeps every count. tests/fixtures/counter-v1 holds the Durable
// Object's SQLite files as the schema-1 counter wrote them (7 reads of the fintech post,
// 3 of the Apple post). They are copied into a freshly synced state folder before the dev
// server starts; the new counter migrates them in place on its first request.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ROOT, get, parseIndex } from './harness.mjs';
import { popularOrder, readAs, readsShown, sleep, startSite, waitForReads } from './support.mjs';

const FIXTURE = path.join(ROOT, 'tests/fixtures/counter-v1/blog-ReadCounter');
const FINTECH = '/posts/building-a-fintech-platform-with-go-microservices';
const APPLE = '/posts/apple-native-container-cli';

let site;
let fixtureBytes;

before(async () => {
  fixtureBytes = await snapshot(FIXTURE);
  site = await startSite({
    beforeStart: async ({ stateDir }) => {
      const target = path.join(stateDir, 'v3/do/blog-ReadCounter');
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.cp(FIXTURE, target, { recursive: true });
    },
  });
});

after(() => site?.stop());

/** Every file of a folder with its bytes, to prove the fixture itself is never changed. */
async function snapshot(dir) {
  const files = {};
  for (const f of await fs.readdir(dir)) files[f] = (await fs.readFile(path.join(dir, f))).toString('base64');
  return files;
}

async function counts() {
  return { fintech: await readsShown(site, FINTECH), apple: await readsShown(site, APPLE) };
}

test('the badges show the counts the old counter kept', async () => {
  await waitForReads(site, FINTECH, 7);
  await waitForReads(site, APPLE, 3);
  // Every other post starts from zero.
  const index = parseIndex((await get(`${site.base}/`)).body);
  for (const p of index.posts.filter((p) => p.href !== FINTECH && p.href !== APPLE)) {
    assert.equal(await readsShown(site, p.href), 0, p.href);
  }
});

test('Popular Reads puts the fintech post first and the Apple post second', async () => {
  const index = parseIndex((await get(`${site.base}/`)).body);
  // Without the old counts these two, the oldest posts, would not be listed at all.
  const newestFirst = index.posts.slice(0, 5).map((p) => p.href);
  assert.ok(!newestFirst.includes(FINTECH) && !newestFirst.includes(APPLE), newestFirst.join(' '));
  const order = popularOrder((await get(`${site.base}/`)).body);
  assert.deepEqual(order.slice(0, 2), [FINTECH, APPLE]);
  assert.deepEqual(order.slice(2), newestFirst.slice(0, 3), 'the rest, with no reads, newest first');
});

test('a new read adds exactly one', async () => {
  assert.equal((await readAs(site, '203.0.113.50', FINTECH)).status, 200);
  await readAs(site, '203.0.113.50', FINTECH); // the same reader: not again
  await waitForReads(site, FINTECH, 8);
  await sleep(11_000); // a refresh later, still exactly one more
  assert.deepEqual(await counts(), { fintech: 8, apple: 3 });
});

test('a restart keeps everything', async () => {
  await site.restart();
  await waitForReads(site, FINTECH, 8);
  assert.deepEqual(await counts(), { fintech: 8, apple: 3 });
  const order = popularOrder((await get(`${site.base}/`)).body);
  assert.deepEqual(order.slice(0, 2), [FINTECH, APPLE]);
  // The same reader is still remembered today after the restart.
  await readAs(site, '203.0.113.50', FINTECH);
  await readAs(site, '203.0.113.51', APPLE);
  await waitForReads(site, APPLE, 4);
  assert.equal(await readsShown(site, FINTECH), 8);
});

test('the fixture itself was copied, not changed', async () => {
  assert.deepEqual(await snapshot(FIXTURE), fixtureBytes);
});
