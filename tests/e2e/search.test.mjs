// Search on the real worker: results ranked on the seed posts, matched words marked, quoted
// phrases and `tag:` filters, pages of ten, drafts never found and scheduled posts found from
// their minute, an edit found right after the sync that publishes it, "did you mean", the
// OpenSearch description, and hostile queries that never answer 5xx or reflect a raw byte.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { decodeEntities, get, rawRequest, textOf } from './harness.mjs';
import { BROWSER, contentWith, kvKeys, postText, readAs, readsShown, removeTemp, sleep, startSite, waitForReads } from './support.mjs';

/** Seconds from the sync until the scheduled post is due: room for a slow start. */
const SCHEDULED_IN = 60;
const GO_IMAGE = '/posts/from-342mb-to-37mb-the-go-image-i-was-shipping-wrong';
const NIXPACKS = '/posts/how-nixpacks-buildctl-and-buildkit-fit-together';
const TERM_BRIDGE = '/posts/term-bridge-terminal-sharing-over-webrtc';

const isoIn = (seconds) => new Date(Math.ceil(Date.now() / 1000 + seconds) * 1000).toISOString().replace('.000Z', 'Z');

/** Twelve posts that all mention the same rare word, for paging. */
function zebraPosts() {
  const posts = {};
  for (let i = 0; i < 12; i++) {
    posts[`zebra-${i}.md`] = postText({
      title: `Zebra note ${i}`,
      date: `2020-01-${String(i + 1).padStart(2, '0')}`,
      summary: `Note ${i} about zebrafish.`,
      extra: 'tags = ["zoo"]\n',
      body: `A zebrafish ${'swims '.repeat(i + 1)}here.`,
    });
  }
  return posts;
}

/** A results page read into { status, hrefs, marks, body, text }. */
async function search(site, query, init) {
  const res = await get(`${site.base}/search?${query}`, init);
  const list = /<ol class="posts results">([\s\S]*?)<\/ol>/.exec(res.body);
  const hrefs = list ? [...list[1].matchAll(/<h2><a href="([^"]+)"/g)].map((m) => m[1]) : [];
  const marks = [...res.body.matchAll(/<mark>([^<]*)<\/mark>/g)].map((m) => decodeEntities(m[1]));
  return { ...res, hrefs, marks, text: textOf(res.body) };
}

const q = (text) => `q=${encodeURIComponent(text)}`;

describe('search', () => {
  let site;
  let contentDir;
  let scheduledAt;
  /** Answers asked for before the scheduled post is due, by query. */
  const beforeDue = new Map();

  before(async () => {
    scheduledAt = isoIn(SCHEDULED_IN);
    contentDir = await contentWith({
      ...zebraPosts(),
      'secret-draft.md': postText({ title: 'Quokka plans', summary: 'Not yet.', extra: 'draft = true\n', body: 'The quokkaword stays hidden.' }),
      'scheduled-post.md': postText({ title: 'Wombat arrives', date: scheduledAt, summary: 'Soon.', body: 'A wombatword comes later.' }),
    });
    site = await startSite({ contentDir });
    // What the hidden posts' words find, asked at once (the scheduled one is not due yet).
    for (const word of ['quokkaword', 'quokka', 'wombatword', 'wombat', 'wombatwrd', 'owmbatword']) {
      beforeDue.set(word, await search(site, q(word)));
    }
    assert.ok(Date.now() < Date.parse(scheduledAt), `the site took more than ${SCHEDULED_IN} s to start`);
  });
  after(async () => {
    await site?.stop();
    if (contentDir) await removeTemp(contentDir);
  });

  test('finds the post a reader means first', async () => {
    for (const [query, want] of [
      ['distroless', GO_IMAGE],
      ['BuildKit socket', NIXPACKS],
      ['WebRTC pairing', TERM_BRIDGE],
      ['CGO_ENABLED', GO_IMAGE],
    ]) {
      const r = await search(site, q(query));
      assert.equal(r.status, 200, query);
      assert.equal(r.hrefs[0], want, `${query}: ${r.hrefs.join(', ')}`);
    }
  });

  test('each result shows its title, date, summary and a snippet with the matched words marked', async () => {
    const r = await search(site, q('distroless'));
    const first = /<li class="post">([\s\S]*?)<\/li>/.exec(r.body)[1];
    assert.match(first, /<h2><a href="[^"]+">From 342MB to 37MB/);
    assert.match(first, /<time datetime="\d{4}-\d\d-\d\d/);
    assert.match(first, /<p class="summary">[^<]+/);
    assert.match(first, /<p class="snippet">[^]*<mark>distroless<\/mark>/i);
    assert.ok(r.marks.every((m) => /^distroless$/i.test(m)), r.marks.join());
    const stemmed = await search(site, q('containers'));
    assert.ok(stemmed.marks.some((m) => /^container$/i.test(m)), `"containers" marks "container" too: ${stemmed.marks}`);
    assert.match(r.text, /1 result|\d+ results/);
  });

  test('a quoted phrase needs its words together, in order', async () => {
    const words = await search(site, q('socket unix'));
    assert.ok(words.hrefs.includes(NIXPACKS));
    const phrase = await search(site, q('"unix socket"'));
    assert.ok(phrase.hrefs.includes(NIXPACKS), phrase.hrefs.join());
    const reversed = await search(site, q('"socket unix"'));
    assert.ok(!reversed.hrefs.includes(NIXPACKS), reversed.hrefs.join());
    assert.ok(phrase.hrefs.length <= words.hrefs.length);
  });

  test('tag: keeps the posts that carry the tag', async () => {
    const all = await search(site, q('build'));
    const rust = await search(site, q('build tag:rust'));
    assert.ok(rust.hrefs.length > 0 && rust.hrefs.length < all.hrefs.length, `${rust.hrefs} of ${all.hrefs}`);
    for (const href of rust.hrefs) {
      const post = await get(`${site.base}${href}`);
      assert.match(post.body, /href="\/tags\/rust"/, href);
    }
    const alone = await search(site, q('tag:go'));
    assert.deepEqual(alone.hrefs.sort(), [GO_IMAGE, '/posts/building-a-fintech-platform-with-go-microservices'].sort());
  });

  test('many results come ten to a page, linked both ways', async () => {
    const one = await search(site, q('zebrafish'));
    assert.equal(one.hrefs.length, 10);
    assert.match(one.text, /12 results, page 1 of 2/);
    assert.match(one.body, /<link rel="next" href="http:\/\/127\.0\.0\.1:\d+\/search\?q=zebrafish&#38;page=2">/);
    assert.match(one.body, /<a href="\/search\?q=zebrafish&#38;page=2" rel="next">/);
    assert.doesNotMatch(one.body, /rel="prev"/);
    const two = await search(site, `${q('zebrafish')}&page=2`);
    assert.equal(two.hrefs.length, 2);
    assert.match(two.body, /<a href="\/search\?q=zebrafish" rel="prev">/);
    assert.doesNotMatch(two.body, /rel="next"/);
    assert.equal(new Set([...one.hrefs, ...two.hrefs]).size, 12, 'no result on both pages');
    const beyond = await search(site, `${q('zebrafish')}&page=9`);
    assert.equal(beyond.status, 200);
    assert.match(beyond.text, /There is no page 9 of these results/);
  });

  test('a word nothing holds says so and suggests the indexed one', async () => {
    const r = await search(site, q('distrolesss'));
    assert.equal(r.status, 200);
    assert.deepEqual(r.hrefs, []);
    assert.match(r.text, /No posts match/);
    assert.match(r.body, /Did you mean <a href="\/search\?q=distroless">distroless<\/a>\?/);
    // Misspelt in the first two letters: found among the terms that end alike.
    for (const [typo, meant] of [['dsitroless', 'distroless'], ['vuildkit', 'buildkit']]) {
      const t = await search(site, q(typo));
      assert.deepEqual(t.hrefs, [], typo);
      assert.match(t.body, new RegExp(`Did you mean <a href="/search\\?q=${meant}">${meant}</a>\\?`), typo);
    }
  });

  test('drafts are never found, scheduled posts only from their minute', async () => {
    for (const word of ['quokkaword', 'quokka', 'wombatword', 'wombat']) {
      const r = beforeDue.get(word);
      assert.deepEqual(r.hrefs, [], word);
      assert.doesNotMatch(r.body, /Did you mean/, `${word}: no suggestion leaks a hidden post's words`);
    }
    assert.doesNotMatch(beforeDue.get('wombatwrd').body, /wombatword/);
    assert.doesNotMatch(beforeDue.get('owmbatword').body, /wombatword/, 'nor from the endings');
    // The draft stays hidden whenever it is asked for.
    assert.deepEqual((await search(site, q('quokkaword'))).hrefs, []);
    const keys = (await kvKeys(site.stateDir)).map((k) => k.name);
    assert.ok(keys.includes('search/head') && keys.some((k) => k.startsWith('search/t/')), keys.join());
    await sleep(Math.max(0, Date.parse(scheduledAt) - Date.now() + 1500));
    const due = await search(site, q('wombatword'));
    assert.deepEqual(due.hrefs, ['/posts/scheduled-post']);
    assert.deepEqual((await search(site, q('quokkaword'))).hrefs, []);
  });

  test('an edit is found on the first request after the sync', async () => {
    assert.deepEqual((await search(site, q('narwhalic'))).hrefs, []);
    const file = path.join(contentDir, 'zebra-3.md');
    await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('here.', 'here, narwhalic too.'));
    const synced = await site.sync();
    assert.equal(synced.code, 0, synced.stderr);
    const r = await search(site, q('narwhalic'));
    assert.deepEqual(r.hrefs, ['/posts/zebra-3']);
    assert.deepEqual(r.marks, ['narwhalic']);
  });

  test('results pages are not indexed and count no read', async () => {
    const r = await search(site, q('distroless'), { headers: { 'user-agent': BROWSER, 'cf-connecting-ip': '203.0.113.9' } });
    assert.match(r.body, /<meta name="robots" content="noindex">/);
    const before = await readsShown(site, GO_IMAGE);
    for (let i = 0; i < 3; i++) {
      await search(site, q(`distroless ${i}`), { headers: { 'user-agent': BROWSER, 'cf-connecting-ip': `203.0.113.${20 + i}` } });
    }
    // A real read of the post counts: the badge moves by that one read alone.
    await readAs(site, '203.0.113.50', GO_IMAGE);
    await waitForReads(site, GO_IMAGE, (before ?? 0) + 1);
  });

  test('every page has the search form and names the OpenSearch description', async () => {
    for (const page of ['/', GO_IMAGE, '/archive', '/tags', '/search']) {
      const { body } = await get(`${site.base}${page}`);
      assert.match(body, /<form class="site-search" action="\/search" method="get" role="search" aria-label="Site search">\s*<label for="site-q">Search<\/label>\s*<input id="site-q" type="search" name="q"/, page);
      assert.match(body, /<link rel="search" type="application\/opensearchdescription\+xml" title="[^"]+" href="\/opensearch\.xml">/, page);
    }
    const os = await get(`${site.base}/opensearch.xml`);
    assert.equal(os.status, 200);
    assert.equal(os.headers.get('content-type'), 'application/opensearchdescription+xml');
    assert.match(os.body, /<Url type="text\/html" method="get" template="http:\/\/[^"]+\/search\?q=\{searchTerms\}"\/>/);
  });

  test('hostile queries answer 200 and never reflect an unescaped byte', async () => {
    const hostile = [
      '',
      'q=',
      'q=%20%20',
      `q=${'a'.repeat(16 * 1024)}`,
      `q=${'%41'.repeat(5000)}`,
      'q=%ff%fe%fd',
      'q=%',
      'q=%zz',
      'q=!!!%3F%3F...',
      `q=${Array.from({ length: 3000 }, (_, i) => `w${i}`).join('+')}`,
      `q=${encodeURIComponent('.*+?[a-z]{3}(|)^$\\')}`,
      `q=${encodeURIComponent('<script>alert(1)</script>')}`,
      `q=${encodeURIComponent('"><img src=x onerror=alert(1)>')}`,
      `q=${encodeURIComponent("' OR 1=1 --")}`,
      'q=rust&page=-1',
      'q=rust&page=0',
      'q=rust&page=99999999999999999999999',
      'q=rust&page=abc',
      'q=rust&page=1e3',
      'q=rust&page=%00',
      'q=tag%3A',
      `q=${'tag:x+'.repeat(500)}`,
      'q=%22',
      'q=rust&q=go',
    ];
    for (const query of hostile) {
      const r = await get(`${site.base}/search?${query}`);
      assert.equal(r.status, 200, `${query.slice(0, 80)}: ${r.status}`);
      assert.doesNotMatch(r.body, /<script>alert|<img src=x|"\s*onerror=/, query.slice(0, 80));
      assert.ok(!r.body.includes('\u0000'), query.slice(0, 80));
    }
    const raw = await rawRequest(site.base, '/search?q=<script>alert(1)</script>&page=2');
    assert.ok(raw.status < 500, `raw: ${raw.status}`);
    assert.doesNotMatch(raw.body, /<script>alert/);
    const head = await fetch(`${site.base}/search?q=rust`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    const post = await fetch(`${site.base}/search?q=rust`, { method: 'POST' });
    assert.equal(post.status, 405);
  });
});
