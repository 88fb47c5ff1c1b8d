// Caching that is never stale: strong ETags and 304s, Cache-Control per kind of page, Popular
// Reads fresh within a minute while post pages keep their ETags, and an edit visible on the
// very next request after a sync while the other posts keep their ETags, and kept in the
// isolate's memory across it.
// The tests run in order against one site.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ROOT, get, getIndex, rawRequest, startSite, tempDir, waitFor } from './harness.mjs';
import { SYNC_SETTLE_MS } from '../tools/sync-settle.mjs';

const FLAKY_KV = path.join(ROOT, 'tests/tools/flaky-kv.mjs');

const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const STRONG = /^"[0-9a-f]{16,}"$/;

let site;
let posts;

before(async () => {
  site = await startSite({ copyContent: true });
  posts = (await getIndex(site)).posts;
});
after(() => site?.stop());

/** `get`, with the dev server's output in the error when a request fails. */
async function fetchOrLog(url, init) {
  try {
    return await get(url, init);
  } catch (e) {
    throw new Error(`GET ${url}: ${e.message}\n--- dev server ---\n${site.log(6000)}`);
  }
}

/** Appends `line` to the Markdown file of the post at `href`, in the site's content copy. */
async function appendToPost(href, line) {
  const file = (await fs.readdir(site.contentDir)).find((f) => f.endsWith('.md') && href.endsWith(f.replace(/\.md$/, '')));
  assert.ok(file, `the file of ${href}`);
  const text = await fs.readFile(path.join(site.contentDir, file), 'utf8');
  await fs.writeFile(path.join(site.contentDir, file), `${text}\n${line}\n`);
}

/** A request asked as *.workers.dev, where the Cache API stores nothing and the blog does
 * not call it: a page comes from the isolate's memory or from KV and a render. */
const askWorkersDev = (p, headers = {}) =>
  rawRequest(site.base, p, { headers: { host: 'blog.test.workers.dev', ...headers } });

/** max-age in seconds from a Cache-Control value. */
const maxAge = (cc) => Number(/max-age=(\d+)/.exec(cc ?? '')?.[1]);

describe('validators and lifetimes', () => {
  test('a post has a strong ETag; If-None-Match answers 304 with no body', async () => {
    const href = posts[0].href;
    const first = await get(`${site.base}${href}`);
    const etag = first.headers.get('etag');
    assert.match(etag ?? '', STRONG);
    assert.equal(first.headers.get('cache-control'), 'public, max-age=300, stale-while-revalidate=86400');
    for (const inm of [etag, `"0000000000000000", ${etag}`, '*']) {
      const again = await get(`${site.base}${href}`, { headers: { 'if-none-match': inm } });
      assert.equal(again.status, 304, `If-None-Match: ${inm}`);
      assert.equal(again.body, '', 'a 304 has no body');
      assert.equal(again.headers.get('etag'), etag);
      assert.equal(again.headers.get('cache-control'), first.headers.get('cache-control'));
    }
    const other = await get(`${site.base}${href}`, { headers: { 'if-none-match': '"0000000000000000"' } });
    assert.equal(other.status, 200);
    assert.equal(other.body, first.body);
    // Another post has another ETag.
    assert.notEqual((await get(`${site.base}${posts[1].href}`)).headers.get('etag'), etag);
  });

  test('the index is short-lived (Popular Reads) and revalidates with 304', async () => {
    const index = await get(`${site.base}/`);
    const cc = index.headers.get('cache-control');
    assert.ok(maxAge(cc) > 0 && maxAge(cc) <= 60, `index Cache-Control: ${cc}`);
    const etag = index.headers.get('etag');
    assert.match(etag ?? '', STRONG);
    assert.equal((await get(`${site.base}/`, { headers: { 'if-none-match': etag } })).status, 304);
    for (const p of ['/feed.xml', '/tags', '/sitemap.xml']) {
      const res = await get(`${site.base}${p}`);
      assert.match(res.headers.get('etag') ?? '', STRONG, `${p} has a strong ETag`);
      assert.equal((await get(`${site.base}${p}`, { headers: { 'if-none-match': res.headers.get('etag') } })).status, 304, p);
    }
  });
});

describe('freshness', () => {
  test('Popular Reads catches up within a minute; the post pages keep their ETags meanwhile', async () => {
    const oldest = posts.at(-1).href;
    const before = await getIndex(site);
    assert.ok(!before.popular.some((p) => p.href === oldest), 'the oldest post starts outside Popular Reads');
    const etags = new Map();
    for (const p of posts) etags.set(p.href, (await get(`${site.base}${p.href}`)).headers.get('etag'));

    // Twelve readers read the oldest post.
    const started = Date.now();
    for (let i = 1; i <= 12; i++) {
      const res = await get(`${site.base}${oldest}`, { headers: { 'user-agent': BROWSER, 'cf-connecting-ip': `192.0.2.${i}` } });
      assert.equal(res.status, 200);
    }
    const index = await waitFor(
      async () => {
        const now = await getIndex(site);
        return now.popular[0]?.href === oldest ? now : null;
      },
      { timeoutMs: 60_000, intervalMs: 1000, describe: () => `${oldest} did not reach the top of Popular Reads in 60 s` },
    );
    console.log(`  Popular Reads showed the new leader after ${Date.now() - started} ms`);
    assert.equal(index.popular.length, before.popular.length);

    for (const p of posts) {
      const res = await get(`${site.base}${p.href}`, { headers: { 'if-none-match': etags.get(p.href) } });
      assert.equal(res.status, 304, `${p.href} is still the same page: counts do not invalidate it`);
    }
  });

  test('an edited post is new on the very next request after the sync, with a new ETag', async () => {
    const href = posts[2].href;
    const first = await get(`${site.base}${href}`);
    const etag = first.headers.get('etag');
    // A post that is not a neighbour of the edited one.
    const far = posts[6].href;
    const farEtag = (await get(`${site.base}${far}`)).headers.get('etag');
    await appendToPost(href, `A sentence added ${Date.now()}.`);
    // Readers keep asking while the sync runs, so the isolate has always just read the
    // version key (it trusts that read for a second): the sync must still be visible on
    // the first request after it returns.
    let syncing = true;
    let during = 0;
    const readers = (async () => {
      while (syncing) {
        const r = await fetchOrLog(`${site.base}${href}`);
        assert.equal(r.status, 200);
        during++;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    // Its KV calls go through the logging stand-in, to time the version key's write.
    const calls = await tempDir('caching-calls-');
    const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', BLOG_NODE: FLAKY_KV, FLAKY_STATE: calls };
    const synced = await site.sync([], { env }).finally(() => (syncing = false));
    const returned = Date.now();
    await readers;
    assert.equal(synced.code, 0, synced.stderr);
    assert.ok(during > 10, `requests answered during the sync: ${during}`);
    // The last `kv bulk put` wrote the version key; sync returned at least SYNC_SETTLE_MS
    // after it, by which time every isolate's last version read began after the write.
    const log = (await fs.readFile(path.join(calls, 'log'), 'utf8')).trim().split('\n').map((l) => l.split(' '));
    const versionPut = log.filter(([, ev, , ...args]) => ev === 'start' && args.join(' ').startsWith('kv bulk put')).at(-1)?.[2];
    const written = Number(log.find(([, ev, n]) => ev === 'end' && n === versionPut)?.[0]);
    assert.ok(returned - written >= SYNC_SETTLE_MS, `sync returned ${returned - written} ms after writing the version key; it must wait ${SYNC_SETTLE_MS} ms`);

    const next = await fetchOrLog(`${site.base}${href}`, { headers: { 'if-none-match': etag } });
    assert.equal(next.status, 200, 'the old ETag no longer matches');
    assert.match(next.body, /A sentence added \d+\./, 'the next request shows the edit');
    assert.notEqual(next.headers.get('etag'), etag);
    assert.match(next.headers.get('etag') ?? '', STRONG);
    const farAgain = await fetchOrLog(`${site.base}${far}`, { headers: { 'if-none-match': farEtag } });
    assert.equal(farAgain.status, 304, `${far} shows nothing of the edited post: its ETag stands`);
  });
});

describe('isolate memory across syncs', () => {
  test('a post page outlives a sync that changed another post; pages of the post list do not', async () => {
    const edited = posts[2].href;
    const kept = posts[5].href; // not a neighbour of the edited post
    const before = await askWorkersDev(kept);
    assert.equal(before.status, 200);
    const neighbourBefore = await askWorkersDev(posts[3].href);
    const indexBefore = await askWorkersDev('/');
    assert.equal(indexBefore.status, 200);

    await appendToPost(edited, `Another sentence ${Date.now()}.`);
    const synced = await site.sync();
    assert.equal(synced.code, 0, synced.stderr);
    // The sync wrote the edited post alone: its neighbours show its title, which is the same.
    assert.match(synced.stdout, /\b0 added, 1 updated, 0 removed/, synced.stdout);
    assert.match(synced.stdout, new RegExp(`updated\\s+${edited.replace('/posts/', '')}`));
    assert.doesNotMatch(synced.stdout, new RegExp(`updated\\s+${kept.replace('/posts/', '')}`));

    // The kept post's page names only what it shows: the same page under the same ETag, and
    // a reader who has it gets a 304.
    const after = await askWorkersDev(kept);
    assert.equal(after.status, 200);
    assert.equal(after.headers.etag, before.headers.etag);
    assert.equal(after.body, before.body);
    const revalidated = await askWorkersDev(kept, { 'if-none-match': before.headers.etag });
    assert.equal(revalidated.status, 304);
    // A neighbour's page shows the edited post's title, which did not change: kept too.
    const neighbourAfter = await askWorkersDev(posts[3].href);
    assert.equal(neighbourAfter.headers.etag, neighbourBefore.headers.etag);
    const indexAfter = await askWorkersDev('/');
    assert.equal(indexAfter.status, 200);
    assert.notEqual(indexAfter.headers.etag, indexBefore.headers.etag, 'the index is built anew for the new content version');
    const editedAfter = await askWorkersDev(edited);
    assert.match(editedAfter.body, /Another sentence \d+\./, 'the edited post is new');
  });

  test('a post page kept in memory never outlives a newly scheduled post in its Cache-Control', async () => {
    const kept = posts[5].href;
    const before = await askWorkersDev(kept);
    assert.equal(maxAge(before.headers['cache-control']), 300, before.headers['cache-control']);
    const due = Math.ceil(Date.now() / 1000) + 120;
    const date = new Date(due * 1000).toISOString().replace('.000Z', 'Z');
    const file = path.join(site.contentDir, 'caching-scheduled.md');
    await fs.writeFile(file, `+++\ntitle = "Scheduled"\ndate = ${date}\nsummary = "Later."\n+++\n\nLater.\n`);
    try {
      const synced = await site.sync();
      assert.equal(synced.code, 0, synced.stderr);
      assert.match(synced.stdout, /added\s+caching-scheduled/);
      // Taken before asking: the Worker's second is this one or a later one, so its max-age
      // can be no more than this (after the answer, a second boundary may have passed).
      const left = due - Math.floor(Date.now() / 1000);
      const after = await askWorkersDev(kept);
      assert.equal(after.status, 200);
      // The page shows the same (the scheduled post is nobody's neighbour yet): same ETag.
      assert.equal(after.headers.etag, before.headers.etag);
      assert.ok(maxAge(after.headers['cache-control']) <= left, `${after.headers['cache-control']} with the post due in ${left} s`);
    } finally {
      await fs.rm(file);
      const removed = await site.sync();
      assert.equal(removed.code, 0, removed.stderr);
    }
  });
});
