// Social cards, end to end: the real `blog sync` draws a 1200x630 PNG for every post without
// a cover into local KV, and workerd serves it as the post's og:image. The card follows what
// it shows: a new title gives a new card (and the old one goes), a re-sync or an edit that
// leaves the title and reading time alone renders nothing. A cover still wins.
// The tests run in order: later ones change the content the earlier ones checked.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ihdr, png } from './png.mjs';
import { ARTIFACTS, archivePosts, get } from './harness.mjs';
import { contentWith, kvKeys, postText, removeTemp, startSite } from './support.mjs';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const CARD_URL = /^https?:\/\/[^/]+\/files\/[0-9a-f]{32}\.png$/;
const COVERED = '/posts/a-post-with-its-own-cover';
const ESCAPED = '/posts/tom-and-jerry';
const EDITED = '/posts/a-title-that-will-change';

let site;
let contentDir;

function meta(html, attr, name) {
  return new RegExp(`<meta ${attr}="${name}" content="([^"]*)">`).exec(html)?.[1];
}

/** A post's share image as its page names it: { url, width, height, card, twitter }. */
async function shareImage(postPath) {
  const { status, body } = await get(`${site.base}${postPath}`);
  assert.equal(status, 200, postPath);
  return {
    url: meta(body, 'property', 'og:image'),
    width: meta(body, 'property', 'og:image:width'),
    height: meta(body, 'property', 'og:image:height'),
    card: meta(body, 'name', 'twitter:card'),
    twitter: meta(body, 'name', 'twitter:image'),
  };
}

async function fetchBytes(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** `cards: N rendered` from a sync's summary. */
function rendered(stdout) {
  const m = /^cards: (\d+) rendered in [\d.]+ s/m.exec(stdout);
  assert.ok(m, `no cards line in:\n${stdout}`);
  return Number(m[1]);
}

async function sync() {
  const r = await site.sync();
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return r;
}

before(async () => {
  contentDir = await contentWith({
    'a-post-with-its-own-cover.md': postText({
      title: 'A post with its own cover',
      date: '2026-02-01',
      extra: 'cover = "cover.png"\n',
      body: 'This post has a picture of its own.',
    }),
    'cover.png': png(600, 315, [30, 120, 60]),
    'tom-and-jerry.md': postText({
      title: 'Tom & Jerry: <script>alert("x")</script> and "quotes"',
      date: '2026-02-02',
      extra: 'slug = "tom-and-jerry"\n',
      body: 'A title full of characters that SVG must escape.',
    }),
    'a-title-that-will-change.md': postText({
      title: 'A title that will change',
      date: '2026-02-03',
      body: 'Some words that stay the same length for now.',
    }),
  });
  site = await startSite({ contentDir });
});

after(async () => {
  await site?.stop();
  await removeTemp(contentDir);
});

describe('social cards', () => {
  let posts;
  const cards = new Map();

  test('every post without a cover shares its card: a 1200x630 PNG, served immutable', async () => {
    posts = (await archivePosts(site.base)).map((p) => p.href);
    assert.ok(posts.length >= 10, posts.join(' '));
    assert.equal(rendered(site.firstSync.stdout), posts.length - 1, site.firstSync.stdout);
    for (const post of posts.filter((p) => p !== COVERED)) {
      const image = await shareImage(post);
      assert.match(image.url ?? '', CARD_URL, post);
      assert.deepEqual(
        { width: image.width, height: image.height, card: image.card, twitter: image.twitter },
        { width: '1200', height: '630', card: 'summary_large_image', twitter: image.url },
        post,
      );
      const { res, bytes } = await fetchBytes(site.base + new URL(image.url).pathname);
      assert.equal(res.status, 200, post);
      assert.equal(res.headers.get('content-type'), 'image/png', post);
      assert.equal(res.headers.get('cache-control'), IMMUTABLE, post);
      assert.deepEqual(ihdr(bytes), { signature: true, chunk: 'IHDR', width: 1200, height: 630 }, post);
      cards.set(post, image.url);
    }
    assert.equal(new Set(cards.values()).size, cards.size, 'each post has a card of its own');
    // One to look at: tests/artifacts/card.png.
    await fs.mkdir(ARTIFACTS, { recursive: true });
    const { bytes } = await fetchBytes(site.base + new URL(cards.get(ESCAPED)).pathname);
    await fs.writeFile(path.join(ARTIFACTS, 'card.png'), bytes);
  });

  test('a cover still wins', async () => {
    const image = await shareImage(COVERED);
    assert.match(image.url ?? '', CARD_URL);
    assert.deepEqual({ width: image.width, height: image.height, card: image.card }, { width: '600', height: '315', card: 'summary_large_image' });
    const { bytes } = await fetchBytes(site.base + new URL(image.url).pathname);
    assert.deepEqual(bytes, await fs.readFile(path.join(contentDir, 'cover.png')));
  });

  test('a re-sync renders nothing and every card stays', async () => {
    const again = await sync();
    assert.equal(rendered(again.stdout), 0);
    assert.match(again.stdout, /^Nothing to write\.$/m);
    for (const [post, url] of cards) assert.equal((await shareImage(post)).url, url, post);
  });

  test('an edit that leaves the title and reading time alone keeps the card', async () => {
    const file = path.join(contentDir, 'a-title-that-will-change.md');
    await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('for now.', 'for now, really.'));
    const edited = await sync();
    assert.match(edited.stdout, /^ {2}updated +a-title-that-will-change$/m);
    assert.equal(rendered(edited.stdout), 0);
    assert.equal((await shareImage(EDITED)).url, cards.get(EDITED));
  });

  test('a new title gives a new card; the old one goes, the others stay', async () => {
    const file = path.join(contentDir, 'a-title-that-will-change.md');
    await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('title = "A title that will change"', 'title = "A title that changed"'));
    const edited = await sync();
    // The neighbours are written again (they show its title), their cards are not drawn again.
    assert.equal(rendered(edited.stdout), 1, edited.stdout);
    const old = cards.get(EDITED);
    const now = await shareImage(EDITED);
    assert.match(now.url ?? '', CARD_URL);
    assert.notEqual(now.url, old);
    const { res, bytes } = await fetchBytes(site.base + new URL(now.url).pathname);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.deepEqual(ihdr(bytes), { signature: true, chunk: 'IHDR', width: 1200, height: 630 });
    assert.match(edited.stdout, new RegExp(`^ {2}file removed ${new URL(old).pathname.replace('.', '\\.')}$`, 'm'));
    assert.equal((await get(site.base + new URL(old).pathname)).status, 404);
    for (const [post, url] of cards) if (post !== EDITED) assert.equal((await shareImage(post)).url, url, post);
    cards.set(EDITED, now.url);
  });

  test('removing a post removes its card with it', async () => {
    const url = cards.get(ESCAPED);
    await fs.rm(path.join(contentDir, 'tom-and-jerry.md'));
    const removed = await sync();
    assert.match(removed.stdout, /^ {2}removed +tom-and-jerry$/m);
    assert.equal(rendered(removed.stdout), 0);
    assert.equal((await get(site.base + new URL(url).pathname)).status, 404);
    const keys = (await kvKeys(site.stateDir)).map((k) => k.name);
    assert.ok(!keys.includes(`file/${new URL(url).pathname.slice('/files/'.length)}`));
    for (const [post, card] of cards) {
      if (post === ESCAPED) continue;
      assert.ok(keys.includes(`file/${new URL(card).pathname.slice('/files/'.length)}`), post);
    }
  });
});
