// Knowing what is read, on the real Worker with real Durable Object state: reads and the
// sites they came from, counted with the honesty rules of Popular Reads (no bots, no
// prefetches, a reader once a day), reported by the token-guarded stats endpoint and
// printed by `blog stats`; the endpoint's refusals are the ordinary 404; the read count is
// text a browser without images (or a screen reader) reaches from the badge.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { BLOG, get, run, startSite, waitFor } from './harness.mjs';
import { BOT, BROWSER, readAs } from './support.mjs';

const TOKEN = 'e2e-stats-token-5b0f3c9a1d';
const A = '/posts/apple-native-container-cli';
const B = '/posts/building-a-fintech-platform-with-go-microservices';
const HN = 'https://news.ycombinator.com/item?id=42';
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

let site;

before(async () => {
  site = await startSite({ wranglerArgs: ['--var', `STATS_TOKEN:${TOKEN}`] });
});
after(() => site?.stop());

const slugOf = (href) => href.replace('/posts/', '');

/** GET /_stats with these headers. */
const statsWith = (headers = {}, path = '/_stats') => get(`${site.base}${path}`, { headers });

/** `blog stats` against this site, with `token` in BLOG_STATS_TOKEN. */
function blogStats(token, args = []) {
  return run(BLOG, ['stats', '--url', site.base, ...args], {
    env: { ...process.env, BLOG_STATS_TOKEN: token },
  });
}

/** The report as `blog stats --json` makes it of the endpoint's answer. */
async function report() {
  const { code, stdout, stderr } = await blogStats(TOKEN, ['--json']);
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout);
}

test('reads and their referring sites count only when a reader reads', async () => {
  const before = await report();
  assert.deepEqual(before.posts, [], 'a fresh site has no reads');
  assert.equal(before.site_daily.length, 30);
  const reads = [
    // Counted: three readers of A, two from other sites, one from the site itself.
    ['198.51.100.1', A, { referer: HN }],
    ['198.51.100.2', A, { referer: 'https://lobste.rs/s/abc/some_story' }],
    ['198.51.100.3', A, { referer: `${site.base}/` }],
    // Not counted: the same reader again today, with a referrer this time.
    ['198.51.100.3', A, { referer: 'https://again.example.org/' }],
    // Not counted: a prefetch, and a crawler, each with a referrer.
    ['198.51.100.4', A, { 'sec-purpose': 'prefetch', referer: 'https://prefetch.example.org/' }],
    ['198.51.100.5', A, { 'user-agent': BOT, referer: 'https://crawler.example.org/' }],
    // Counted: a reader of B from the same site as the first, and one from a local address.
    ['198.51.100.1', B, { referer: 'https://news.ycombinator.com/' }],
    ['198.51.100.6', B, { referer: 'http://192.168.1.20:8080/notes' }],
  ];
  for (const [reader, href, headers] of reads) {
    // One at a time, so a repeat comes after the read it repeats.
    assert.equal((await readAs(site, reader, href, headers)).status, 200);
    await new Promise((r) => setTimeout(r, 150));
  }
  const r = await waitFor(
    async () => {
      const r = await report();
      return r.posts.reduce((n, p) => n + p.total, 0) === 5 ? r : null;
    },
    { timeoutMs: 30_000, intervalMs: 500, describe: async () => JSON.stringify(await report()) },
  );
  const byslug = Object.fromEntries(r.posts.map((p) => [p.slug, p]));
  const a = byslug[slugOf(A)];
  const b = byslug[slugOf(B)];
  assert.deepEqual([a.total, a.last_7_days, a.last_30_days], [3, 3, 3]);
  assert.deepEqual([b.total, b.last_7_days, b.last_30_days], [2, 2, 2]);
  assert.equal(a.daily.length, 30);
  assert.equal(a.daily.at(-1), 3, 'today is the last day');
  assert.equal(a.daily.slice(0, -1).reduce((x, y) => x + y, 0), 0);
  assert.equal(r.site_daily.at(-1), 5);
  assert.equal(r.today, new Date().toISOString().slice(0, 10));
  assert.equal(r.retention_days, 400, 'the default retention');
  // Hosts only, the site's own and addresses left out, repeats, prefetches and bots too.
  // (The endpoint answers in no order; `blog stats` sorts.)
  assert.deepEqual(
    r.referrers.map((h) => [h.host, h.last_30_days, h.total]).sort(),
    [['lobste.rs', 1, 1], ['news.ycombinator.com', 2, 2]],
  );
  // Nor does what the endpoint sends, which is what the counters keep.
  const raw = await statsWith({ authorization: `Bearer ${TOKEN}` });
  assert.equal(raw.status, 200);
  for (const text of [JSON.stringify(r), raw.body]) {
    assert.doesNotMatch(text, /item\?id|some_story|198\.51|192\.168|127\.0\.0\.1|again|prefetch|crawler/);
  }
  assert.equal(JSON.parse(raw.body).shards.length, 8, 'every counter answered');
});

test('blog stats prints the reads per post with a sparkline, per day and by referring site', async () => {
  const { code, stdout, stderr } = await blogStats(TOKEN);
  assert.equal(code, 0, stderr);
  const today = new Date().toISOString().slice(0, 10);
  assert.match(stdout, new RegExp(`^Reads on ${site.base.replace(/\./g, '\\.')}, \\d{4}-\\d\\d-\\d\\d to ${today}`));
  const row = (name) => stdout.split('\n').find((l) => l.startsWith(`${name} `))?.split(/\s+/);
  const a = row(slugOf(A));
  assert.deepEqual(a.slice(0, 4), [slugOf(A), '3', '3', '3'], stdout);
  // Thirty days, none before today, and today the busiest.
  assert.equal([...a[4]].length, 30);
  assert.equal(a[4], `${'▁'.repeat(29)}█`);
  assert.deepEqual(row(slugOf(B)).slice(0, 4), [slugOf(B), '2', '2', '2']);
  assert.match(stdout, /The site, reads per day: ▁{29}█ \(5 in 30 days\)/);
  assert.match(stdout, new RegExp(`\\n  ${today}      5\\n`));
  assert.deepEqual(row('news.ycombinator.com'), ['news.ycombinator.com', '2', '2']);
  assert.deepEqual(row('lobste.rs'), ['lobste.rs', '1', '1']);
  // Most read first, most referring first.
  assert.ok(stdout.indexOf(`\n${slugOf(A)} `) < stdout.indexOf(`\n${slugOf(B)} `), stdout);
  assert.ok(stdout.indexOf('\nnews.ycombinator.com ') < stdout.indexOf('\nlobste.rs '), stdout);
  for (const absent of ['again.example.org', 'prefetch.example.org', 'crawler.example.org', '127.0.0.1', '192.168']) {
    assert.ok(!stdout.split('\n').some((l) => l.startsWith(absent)), `${absent} in:\n${stdout}`);
  }
});

test('blog stats with a wrong token says the site answered 404, and prints no stats', async () => {
  const { code, stdout, stderr } = await blogStats('not-the-token');
  assert.equal(code, 1);
  assert.equal(stdout, '');
  assert.match(stderr, /answered 404: the token is not the Worker's STATS_TOKEN/);
  const remote = await run(BLOG, ['stats', '--remote'], { env: { ...process.env, BLOG_STATS_TOKEN: '' } });
  assert.equal(remote.code, 1);
  assert.match(remote.stderr, /--remote needs the stats token in BLOG_STATS_TOKEN/);
});

/** A response's status, body and headers, without the one that names the moment. */
function shape(res) {
  const headers = Object.fromEntries([...res.headers].filter(([k]) => k !== 'date'));
  return { status: res.status, body: res.body, headers };
}

test('without the right token the endpoint is the ordinary 404, never cached', async () => {
  const ordinary = shape(await get(`${site.base}/no-such-page`));
  assert.equal(ordinary.status, 404);
  assert.equal(ordinary.headers['cache-control'], 'no-store');
  for (const [what, headers, path] of [
    ['no token', {}, '/_stats'],
    ['a wrong token', { authorization: 'Bearer wrong' }, '/_stats'],
    ['the token cut short', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }, '/_stats'],
    ['the token and more', { authorization: `Bearer ${TOKEN}x` }, '/_stats'],
    ['another scheme', { authorization: `Basic ${TOKEN}` }, '/_stats'],
    ['the token in the query', {}, `/_stats?token=${TOKEN}`],
  ]) {
    assert.deepEqual(shape(await statsWith(headers, path)), ordinary, what);
  }
  const ok = await statsWith({ authorization: `Bearer ${TOKEN}` });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('cache-control'), 'no-store');
  assert.match(ok.headers.get('content-type'), /^application\/json/);
});

test('no public page names the endpoint', async () => {
  for (const path of ['/', A, '/archive', '/tags', '/sitemap.xml', '/sitemap-1.xml', '/robots.txt', '/feed.xml', '/feed.json', '/site.webmanifest']) {
    const { status, body } = await get(`${site.base}${path}`);
    assert.equal(status, 200, path);
    assert.doesNotMatch(body, /_stats|STATS_TOKEN/i, path);
  }
});

test('the read count is text a screen reader or text browser reaches from the badge', async () => {
  const page1 = await get(`${site.base}${A}`);
  const link = /<a href="([^"]+)"><img class="reads" src="[^"]+" alt="Read count"/.exec(page1.body);
  assert.ok(link, 'the badge links to its count as text');
  const text = await get(`${site.base}${link[1]}`);
  assert.equal(text.status, 200);
  assert.equal(text.body, '3 reads\n');
  assert.match(text.headers.get('content-type'), /^text\/plain/);
  assert.equal(text.headers.get('cache-control'), 'no-store');
  // A new read changes the count, not the post's HTML.
  await readAs(site, '198.51.100.7', A);
  await waitFor(async () => (await get(`${site.base}${link[1]}`)).body === '4 reads\n', {
    timeoutMs: 30_000,
    intervalMs: 500,
    describe: async () => `the text says ${(await get(`${site.base}${link[1]}`)).body}`,
  });
  const page2 = await get(`${site.base}${A}`);
  assert.equal(page2.body, page1.body);
  assert.equal(page2.headers.get('etag'), page1.headers.get('etag'));

  // In Chromium without JavaScript: the link is in the accessibility tree by its name, and
  // following it gives the number. axe finds nothing wrong with the badge and its link.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  try {
    const context = await browser.newContext({ javaScriptEnabled: false, userAgent: BROWSER });
    const page = await context.newPage();
    await page.goto(`${site.base}${A}`);
    const tree = await page.locator('p.meta').ariaSnapshot();
    assert.match(tree, /link "Read count"/, tree);
    await page.getByRole('link', { name: 'Read count' }).click();
    await page.waitForURL(/reads\.txt$/);
    assert.match(await page.locator('body').innerText(), /^\d+ reads?\s*$/);
    await context.close();
    const withScripts = await browser.newContext({ userAgent: BROWSER });
    const axePage = await withScripts.newPage();
    await axePage.goto(`${site.base}${A}`);
    const { violations, passes } = await new AxeBuilder({ page: axePage }).include('p.meta').analyze();
    assert.ok(passes.some((p) => p.id === 'link-name'), 'axe checked the link');
    assert.deepEqual(violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(' ')}`), []);
  } finally {
    await browser.close();
  }
});

test('a Worker without STATS_TOKEN answers the ordinary 404 to every token', async () => {
  await site.restart({ wranglerArgs: [] });
  const ordinary = shape(await get(`${site.base}/no-such-page`));
  for (const authorization of [`Bearer ${TOKEN}`, 'Bearer ', 'Bearer undefined']) {
    assert.deepEqual(shape(await statsWith({ authorization })), ordinary, authorization);
  }
});
