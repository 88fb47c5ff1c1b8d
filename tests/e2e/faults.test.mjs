// Faults behind the pages. A read counter that throws, answers slowly or cannot be reached
// never fails a page: Popular Reads falls back to newest first. A panic in the Worker itself
// costs that work only: the next request gets a fresh wasm instance. Counts never go backwards and
// reads are never counted twice across a counter outage and restarts. Broken KV records (a
// corrupt post, a missing post, a corrupt index) take down only what they must, are logged
// with their key, and the next `blog sync` repairs them.
//
// The edge keeps rendered pages in isolate memory and in the Cache API, keyed by content
// version, and the local Cache API persists in the state folder across restarts: corrupting
// KV behind its back would be hidden by pages already rendered. So each KV fault is made
// before the first render: in a freshly synced state folder, before the dev server starts.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { get, parseIndex } from './harness.mjs';
import { assertSecurityHeaders, popularOrder, readAs, readsShown, sleep, startSite, waitForReads } from './support.mjs';

const FINTECH = '/posts/building-a-fintech-platform-with-go-microservices';
const APPLE = '/posts/apple-native-container-cli';
const BRIDGE = '/posts/term-bridge-terminal-sharing-over-webrtc';
const FAULT = (f) => ['--var', `COUNTER_FAULT:${f}`];

/** Every page type of a site, with the status each must answer. */
async function everyPage(site) {
  const index = parseIndex((await get(`${site.base}/`)).body);
  const paths = [
    '/',
    ...index.posts.map((p) => p.href),
    ...index.posts.map((p) => `${p.href}/reads.svg`),
    '/tags',
    '/tags/go',
    '/feed.xml',
    '/rss.xml',
    '/feed.json',
    '/tags/go/feed.xml',
    '/sitemap.xml',
    '/sitemap-1.xml',
    '/archive',
    '/2026/',
    '/robots.txt',
  ];
  const statuses = {};
  for (const p of paths) statuses[p] = (await get(`${site.base}${p}`)).status;
  return statuses;
}

describe('a failing read counter never fails a page', () => {
  let site;
  let newestFirst;
  let counted;

  before(async () => {
    site = await startSite();
    // Newest first is what a site with no counts shows.
    const fresh = await get(`${site.base}/`);
    newestFirst = parseIndex(fresh.body).posts.slice(0, 5).map((p) => p.href);
    assert.deepEqual(popularOrder(fresh.body), newestFirst, 'a fresh site ranks newest first');
    // Reads of the two oldest posts, so counted ranking and newest first differ.
    for (const [i, p] of [FINTECH, FINTECH, FINTECH, APPLE, APPLE].entries()) await readAs(site, `192.0.2.${i + 1}`, p);
    await waitForReads(site, FINTECH, 3);
    await waitForReads(site, APPLE, 2);
    counted = await waitFor(async () => {
      const order = popularOrder((await get(`${site.base}/`)).body);
      return order[0] === FINTECH && order[1] === APPLE ? order : null;
    });
    assert.notDeepEqual(counted, newestFirst);
  });

  after(() => site?.stop());

  for (const fault of ['throw', 'unreachable', 'slow=400']) {
    test(`COUNTER_FAULT=${fault}: every page answers, Popular Reads falls back to newest first`, async () => {
      await site.restart({ wranglerArgs: FAULT(fault) });
      // The first request of the new isolate has no counts: it waits at most 150 ms for them.
      const started = Date.now();
      const first = await get(`${site.base}/`);
      const ms = Date.now() - started;
      assert.equal(first.status, 200);
      assert.deepEqual(popularOrder(first.body), newestFirst, `${fault}: first index page`);
      const statuses = await everyPage(site);
      const bad = Object.entries(statuses).filter(([, s]) => s !== 200);
      assert.deepEqual(bad, [], `${fault}: pages that did not answer 200`);
      // The badge never claims fewer reads than were counted: no number beats a wrong one.
      const badge = await get(`${site.base}${FINTECH}/reads.svg`);
      assert.equal(badge.status, 200);
      const shown = await readsShown(site, FINTECH);
      assert.ok(shown === null || shown >= 3, `${fault}: the badge says ${shown} reads; 3 were counted\n${badge.body}`);
      // A read under the fault still answers at once.
      assert.equal((await readAs(site, '192.0.2.200', BRIDGE)).status, 200);
      if (fault === 'slow=400') {
        // Slow is not broken: the counts arrive in the background and are used.
        await waitFor(async () => popularOrder((await get(`${site.base}/`)).body)[0] === FINTECH, { timeoutMs: 30_000 });
      } else {
        // Past the 10 s retry window it still falls back, and never fails.
        for (let i = 0; i < 6; i++) {
          const res = await get(`${site.base}/`);
          assert.equal(res.status, 200);
          assert.deepEqual(popularOrder(res.body), newestFirst, `${fault}: index after ${i * 2.5} s`);
          await sleep(2500);
        }
        assert.match(site.output, /injected fault/, 'the failure is logged');
      }
      console.log(`  ${fault}: first index page in ${ms} ms; ${Object.keys(statuses).length} pages 200`);
    });
  }

  test('COUNTER_FAULT=panic: the Worker panics sending reads; the next requests get a fresh instance and every page answers', async () => {
    await site.restart({ wranglerArgs: FAULT('panic') });
    for (let i = 0; i < 3; i++) {
      // A real read: its page answers first, then the flush that sends it panics.
      assert.equal((await readAs(site, `192.0.2.${210 + i}`, BRIDGE)).status, 200);
      await sleep(300);
      const statuses = await everyPage(site);
      const bad = Object.entries(statuses).filter(([, s]) => s !== 200);
      assert.deepEqual(bad, [], `pages that did not answer 200 after panic ${i + 1}`);
    }
    assert.match(site.output, /injected fault: the counter client panics/, 'the panic is logged');
    assert.match(site.output, /Reinitializing Wasm application/, 'the wasm instance was made again');
  });

  test('no fault again: the counts are all there', async () => {
    await site.restart({ wranglerArgs: [] });
    await waitForReads(site, FINTECH, 3);
    await waitForReads(site, APPLE, 2);
    await waitFor(async () => popularOrder((await get(`${site.base}/`)).body)[0] === FINTECH, { timeoutMs: 30_000 });
  });
});

describe('counts never go backwards and are never counted twice', () => {
  let site;
  after(() => site?.stop());

  test('reads before, during and after a counter outage', async () => {
    site = await startSite();
    const seen = [];
    const look = async () => {
      const n = await readsShown(site, BRIDGE);
      seen.push(n);
      return n;
    };
    // Before: 4 readers, each counted once.
    for (let i = 1; i <= 4; i++) await readAs(site, `198.51.100.${i}`, BRIDGE);
    await readAs(site, '198.51.100.1', BRIDGE); // the same reader again: not counted
    await waitForReads(site, BRIDGE, 4);
    const before = await look();

    // The counter fails: 5 more readers. Each batch fails, is retried with the next flushes
    // (up to 3 attempts), and is still pending when the restart ends the isolate.
    await site.restart({ wranglerArgs: FAULT('throw') });
    for (let i = 1; i <= 5; i++) {
      assert.equal((await readAs(site, `198.51.100.${100 + i}`, BRIDGE)).status, 200);
      await sleep(150);
    }
    await sleep(1000);
    const during = await readsShown(site, BRIDGE);
    assert.ok(during === null || during >= before, `during the outage the badge says ${during}; ${before} were counted`);
    assert.match(site.output, /sending \d+ reads failed .*will retry|sending \d+ reads failed 3 times/, 'the failed batches are logged');

    // Recovered: 3 new readers, and one of the earlier ones again.
    await site.restart({ wranglerArgs: [] });
    for (let i = 1; i <= 3; i++) await readAs(site, `198.51.100.${200 + i}`, BRIDGE);
    await readAs(site, '198.51.100.2', BRIDGE);
    const want = before + 3;
    await waitFor(
      async () => {
        const n = await look();
        assert.ok(n === null || (n >= before && n <= want), `the count went to ${n} (before ${before}, want ${want})`);
        return n === want;
      },
      { timeoutMs: 40_000, intervalMs: 500, describe: () => `badge showed ${seen.join(', ')}` },
    );
    // Settled: nothing arrives later (counts refresh every 10 s), and a restart keeps it.
    await sleep(11_000);
    assert.equal(await look(), want);
    await site.restart();
    await waitForReads(site, BRIDGE, want);
    console.log(`  before ${before}, during the outage the badge showed ${during}, after ${want}; every count seen: ${seen.join(', ')}`);
  });
});

describe('broken KV records', () => {
  let site;
  const MINI = '/posts/mini-vercel-clone-in-rust-in-one-day';
  const NIX = '/posts/how-nixpacks-buildctl-and-buildkit-fit-together';

  /** A synced site whose KV gets `wrangler kv <args>` before its dev server starts. */
  async function siteWith(args, { oldFeeds = false } = {}) {
    await site?.stop();
    site = await startSite({
      beforeStart: async (s) => {
        const r = await s.kv(args);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        // The main feed's record as written before feeds carried their posts' HTML: the
        // feed then reads its posts' own records.
        if (oldFeeds) {
          const got = await s.kv(['key', 'get', 'list/feed']);
          assert.equal(got.code, 0, got.stdout + got.stderr);
          const record = JSON.parse(got.stdout);
          assert.ok(record.html, 'the feed record carries its posts\' HTML');
          delete record.html;
          const put = await s.kv(['key', 'put', 'list/feed', JSON.stringify(record)]);
          assert.equal(put.code, 0, put.stdout + put.stderr);
        }
      },
    });
  }
  after(() => site?.stop());

  /** Feed entry links of one feed, as site paths. */
  async function feedPosts(p) {
    const { status, body } = await get(`${site.base}${p}`);
    assert.equal(status, 200, p);
    if (p.endsWith('.json')) return JSON.parse(body).items.map((i) => new URL(i.url).pathname);
    return [...body.matchAll(/<(?:link rel="alternate" type="text\/html" href|link)(?:="|>)https?:\/\/[^/"<]+(\/posts\/[^"<]+)/g)].map((m) => m[1]);
  }

  test('a corrupt post record: that post answers 500 and is logged; the rest answers 200', async () => {
    await siteWith(['key', 'put', `post/${MINI.slice(7)}`, 'not json']);
    const before = site.output.length;
    const broken = await get(`${site.base}${MINI}`);
    assert.equal(broken.status, 500);
    assert.match(broken.body, /Something went wrong/);
    assert.doesNotMatch(broken.body, /not json|expected|serde/i, 'the cause leaks to readers');
    assertSecurityHeaders(broken.headers, '500 page');
    await waitFor(() => site.output.slice(before).includes(`corrupt KV record post/${MINI.slice(7)}`), {
      describe: () => `no log line names the key:\n${site.log()}`,
    });
    const statuses = await everyPage(site);
    // Its read count badge reads the record too.
    const bad = Object.entries(statuses).filter(([p, s]) => s !== 200 && p !== MINI && p !== `${MINI}/reads.svg`);
    assert.deepEqual(bad, [], 'pages other than the broken post that did not answer 200');
    // The feeds are built from their own record, which carries each post's HTML: the
    // broken post record is not read for them.
    for (const feed of ['/feed.xml', '/rss.xml', '/feed.json']) {
      const posts = await feedPosts(feed);
      assert.ok(posts.includes(MINI), `${feed}: ${posts.join(' ')}`);
      assert.equal(posts.length, 8, `${feed}: ${posts.join(' ')}`);
    }
    // A feed record without the HTML reads the posts' records: it leaves out the broken
    // post's entry and keeps every other.
    await siteWith(['key', 'put', `post/${MINI.slice(7)}`, 'not json'], { oldFeeds: true });
    for (const feed of ['/feed.xml', '/rss.xml', '/feed.json']) {
      const posts = await feedPosts(feed);
      assert.ok(!posts.includes(MINI), `${feed} lists the broken post`);
      assert.equal(posts.length, 7, `${feed}: ${posts.join(' ')}`);
    }
    // The next sync sees the record is not what it wrote, and rewrites it.
    const synced = await site.sync();
    assert.match(synced.stdout, /updated\s+mini-vercel-clone-in-rust-in-one-day/);
    assert.equal((await get(`${site.base}${MINI}`)).status, 200);
    assert.equal((await feedPosts('/feed.xml')).length, 8);
  });

  test('a post the index lists is missing from KV: it answers 404, the rest 200', async () => {
    await siteWith(['key', 'delete', `post/${NIX.slice(7)}`]);
    const gone = await get(`${site.base}${NIX}`);
    assert.equal(gone.status, 404);
    assert.match(gone.body, /Page not found/);
    const statuses = await everyPage(site);
    const bad = Object.entries(statuses).filter(([p, s]) => s !== 200 && p !== NIX && p !== `${NIX}/reads.svg`);
    assert.deepEqual(bad, [], 'pages other than the missing post that did not answer 200');
    // A feed whose record carries the HTML still has the entry; one that reads the posts'
    // records leaves it out.
    assert.equal((await feedPosts('/feed.xml')).length, 8);
    await siteWith(['key', 'delete', `post/${NIX.slice(7)}`], { oldFeeds: true });
    const beforeFeeds = site.output.length;
    for (const feed of ['/feed.xml', '/feed.json']) {
      const posts = await feedPosts(feed);
      assert.ok(!posts.includes(NIX), feed);
      assert.equal(posts.length, 7, feed);
    }
    // The feed, whose list names the post, says what is missing.
    await waitFor(() => site.output.slice(beforeFeeds).includes(`KV has no post/${NIX.slice(7)}`), { describe: () => site.log() });
    const synced = await site.sync();
    assert.match(synced.stdout, /added\s+how-nixpacks-buildctl-and-buildkit-fit-together/);
    assert.equal((await get(`${site.base}${NIX}`)).status, 200);
  });

  test('a corrupt site record: posts still answer 200, the index page 500, logged with the key', async () => {
    await siteWith(['key', 'put', 'site', 'not json']);
    const before = site.output.length;
    const home = await get(`${site.base}/`);
    assert.equal(home.status, 500);
    assert.match(home.body, /Something went wrong/);
    assertSecurityHeaders(home.headers, '500 index');
    await waitFor(() => /corrupt KV record site\b/.test(site.output.slice(before)), { describe: () => site.log() });
    for (const p of [FINTECH, APPLE, BRIDGE, MINI, NIX]) {
      const page = await get(`${site.base}${p}`);
      assert.equal(page.status, 200, `${p} without the site record`);
      assert.match(page.body, /<h1>[^<]+<\/h1>/);
    }
    assert.equal((await get(`${site.base}/posts/no-such-post`)).status, 404);
    const synced = await site.sync();
    assert.match(synced.stdout, /index\s+written/);
    const again = await get(`${site.base}/`);
    assert.equal(again.status, 200);
    assert.equal(parseIndex(again.body).posts.length, 8);
  });
});

/** Polls until `probe` returns something truthy. Unlike harness.waitFor, an assertion that
 * fails inside `probe` fails at once instead of being retried. */
async function waitFor(probe, { timeoutMs = 15_000, intervalMs = 250, describe = () => '' } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${await describe()}`);
}
