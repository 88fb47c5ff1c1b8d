// Images and files beside posts, end to end. A post in tests/fixtures/images/ links a PNG
// beside it, an SVG (with a <script> inside) and a PDF in a shared files/ folder, and names
// a PNG cover; the real `blog sync` uploads them to local KV and workerd serves them. Then
// the image changes and the post goes away, and the stored files follow. A 2,400-pixel photo
// made here gets resized WebP variants, which Chromium picks by the width of its screen.
// The tests run in order: later ones change the content the earlier ones checked.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { PNG_SIGNATURE, ihdr, photoPng, png, pngChunk, rgbHeader } from './png.mjs';
import AxeBuilder from '@axe-core/playwright';
import { ARTIFACTS, BLOG, CONTENT, ROOT, WRANGLER, get, run, startSite } from './harness.mjs';

const FIXTURES = path.join(ROOT, 'tests/fixtures/images');
const POST = '/posts/pictures-beside-a-post';
const FILE_URL = /^\/files\/[0-9a-f]{32}\.[a-z0-9]{1,5}$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

let site;
let contentDir;
let browser;

/** Width and height of a WebP, from its VP8X, VP8 or VP8L chunk. */
function webpSize(b) {
  assert.equal(b.toString('latin1', 0, 4), 'RIFF');
  assert.equal(b.toString('latin1', 8, 12), 'WEBP');
  const tag = b.toString('latin1', 12, 16);
  if (tag === 'VP8X') return { width: b.readUIntLE(24, 3) + 1, height: b.readUIntLE(27, 3) + 1 };
  if (tag === 'VP8 ') return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
  if (tag === 'VP8L') {
    const bits = b.readUInt32LE(21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  return assert.fail(`no WebP image chunk: ${tag}`);
}

/** Width and height of an AVIF, from its `ispe` (image spatial extents) property. */
function avifSize(b) {
  assert.equal(b.toString('latin1', 4, 12), 'ftypavif', 'an AVIF starts with its ftyp box');
  const at = b.indexOf('ispe', 0, 'latin1');
  assert.ok(at > 0, 'an ispe property');
  return { width: b.readUInt32BE(at + 8), height: b.readUInt32BE(at + 12) };
}

/** Each `<source>` of the `<picture>` around the body image whose `src` is `src`. */
function sourcesOf(html, src) {
  const picture = [...html.matchAll(/<picture>([\s\S]*?)<\/picture>/g)].find(([, inner]) => inner.includes(`src="${src}"`));
  if (!picture) return [];
  return [...picture[1].matchAll(/<source\s([^>]*)>/g)].map(([, attrs]) => {
    const a = Object.fromEntries([...attrs.matchAll(/([a-z-]+)="([^"]*)"/g)].map(([, k, v]) => [k, v]));
    const srcset = a.srcset.split(', ').map((c) => {
      const [url, w] = c.split(' ');
      return { url, width: Number(w.replace(/w$/, '')) };
    });
    return { type: a.type, sizes: a.sizes, srcset };
  });
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes) {
  const { width, height } = ihdr(bytes);
  return { width, height };
}

/** The attributes of every <img> in a post's body (not the read-count badge). */
function bodyImages(html) {
  const body = /<div class="body">([\s\S]*?)<\/div>\s*<footer>/.exec(html)?.[1] ?? assert.fail('no post body');
  return [...body.matchAll(/<img\s([^>]*)>/g)].map(([, attrs]) =>
    Object.fromEntries([...attrs.matchAll(/([a-z-]+)="([^"]*)"/g)].map(([, k, v]) => [k, v])),
  );
}

function meta(html, attr, name) {
  return new RegExp(`<meta ${attr}="${name}" content="([^"]*)">`).exec(html)?.[1];
}

/**
 * Every `file/` key in the site's local KV, with its metadata, but the posts' social cards
 * (which tests/e2e/cards.test.mjs checks): each post's key names its card.
 */
async function storedFiles() {
  const { code, stdout, stderr } = await run(WRANGLER, [
    'kv', 'key', 'list', '--binding', 'POSTS', '--local', '--persist-to', site.stateDir,
  ]);
  assert.equal(code, 0, stderr);
  const keys = JSON.parse(stdout.slice(stdout.indexOf('[')));
  const cards = new Set(keys.filter((k) => k.name.startsWith('post/')).map((k) => k.metadata?.card));
  return keys.filter((k) => k.name.startsWith('file/') && !cards.has(k.name));
}

const keyOf = (url) => `file/${url.slice('/files/'.length)}`;

async function fetchBytes(url, init) {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000), ...init });
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

before(async () => {
  contentDir = await fs.mkdtemp(path.join(os.tmpdir(), 'blog-e2e-images-'));
  await fs.cp(CONTENT, contentDir, { recursive: true });
  await fs.cp(FIXTURES, contentDir, { recursive: true });
  // A file no post links to: it must stay on the author's disk.
  await fs.writeFile(path.join(contentDir, 'files/unused.png'), png(4, 4, [1, 2, 3]));
  site = await startSite({ contentDir });
  await fs.mkdir(ARTIFACTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await site?.stop();
  await fs.rm(contentDir, { recursive: true, force: true });
});

describe('a post with images and files beside it', () => {
  test('the first sync uploads the four files the post uses, and only those', async () => {
    const out = site.firstSync.stdout;
    assert.match(out, /^4 files added, 0 removed, 0 unchanged$/m);
    for (const file of ['photo.png', 'cover.png', 'files/diagram.svg', 'files/report.pdf']) {
      assert.match(out, new RegExp(`^ {2}file added {3}${file.replace('.', '\\.')} -> /files/[0-9a-f]{32}\\.[a-z]+$`, 'm'), file);
    }
    assert.doesNotMatch(out, /unused/);
    const stored = await storedFiles();
    const originals = stored.filter((k) => !k.metadata.file);
    assert.deepEqual(originals.map((k) => k.metadata.type).sort(), ['application/pdf', 'image/png', 'image/png', 'image/svg+xml']);
    for (const { name, metadata } of stored) assert.equal(name, `file/${metadata.hash}.${name.split('.').pop()}`);
    // The photo in the body (640 px wide) gets AVIF and WebP copies at 480 and 640 px; the
    // cover, the SVG and the PDF get none.
    assert.match(out, /^ {2}image {5}resized photo\.png -> 480, 640 px AVIF and WebP$/m);
    assert.match(out, /^image variants: 4 added, 0 removed, 0 unchanged; 4 encoded from 1 images in \d+\.\d\d s \(AVIF \d+\.\d\d s, WebP \d+\.\d\d s\); widest AVIF .+, WebP /m);
    const variants = stored.filter((k) => k.metadata.file);
    assert.equal(variants.length, 4);
    const photo = originals.find((k) => k.metadata.type === 'image/png' && variants[0].metadata.file === k.name.slice('file/'.length));
    assert.ok(photo, 'each variant names its original');
    assert.deepEqual(variants.map((v) => v.metadata.type).sort(), ['image/avif', 'image/avif', 'image/webp', 'image/webp']);
    for (const v of variants) assert.equal(v.metadata.type, `image/${v.name.split('.').pop()}`);
  });

  test('a relative image renders as an <img> with its size, alt text and loading hints', async () => {
    const { status, body } = await get(`${site.base}${POST}`);
    assert.equal(status, 200);
    const [photo, diagram, ...rest] = bodyImages(body);
    assert.deepEqual(rest, []);
    const file = pngSize(await fs.readFile(path.join(FIXTURES, 'photo.png')));
    assert.match(photo.src, FILE_URL);
    assert.ok(photo.src.endsWith('.png'));
    assert.deepEqual(
      { alt: photo.alt, width: photo.width, height: photo.height, decoding: photo.decoding, loading: photo.loading },
      { alt: 'A sunset over two blue ridges of hills', width: String(file.width), height: String(file.height), decoding: 'async', loading: 'eager' },
    );
    assert.match(diagram.src, FILE_URL);
    assert.deepEqual(
      { alt: diagram.alt, width: diagram.width, height: diagram.height, loading: diagram.loading },
      { alt: 'Three boxes joined by arrows: write, sync, serve', width: '320', height: '120', loading: 'lazy' },
    );
    // The photo is offered as AVIF, then WebP, beside its original; the SVG is not.
    const [avif, webp, ...others] = sourcesOf(body, photo.src);
    assert.deepEqual(others, []);
    assert.equal(avif.type, 'image/avif');
    assert.equal(webp.type, 'image/webp');
    assert.equal(avif.sizes, webp.sizes);
    assert.deepEqual(avif.srcset.map((c) => c.width), [480, 640]);
    assert.deepEqual(webp.srcset.map((c) => c.width), [480, 640]);
    for (const c of avif.srcset) assert.match(c.url, /^\/files\/[0-9a-f]{32}\.avif$/);
    for (const c of webp.srcset) assert.match(c.url, /^\/files\/[0-9a-f]{32}\.webp$/);
    assert.deepEqual(sourcesOf(body, diagram.src), []);
  });

  test('the image URL answers with its bytes, its type, immutable caching and a strong ETag', async () => {
    const [photo] = bodyImages((await get(`${site.base}${POST}`)).body);
    const { res, bytes } = await fetchBytes(site.base + photo.src);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('cache-control'), IMMUTABLE);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.deepEqual(bytes, await fs.readFile(path.join(FIXTURES, 'photo.png')), 'the bytes as written, not re-encoded');
    const etag = res.headers.get('etag');
    assert.match(etag, /^"[0-9a-f]{32}"$/);
    assert.ok(photo.src.includes(etag.slice(1, -1)), 'the ETag is the hash in the name');
    const again = await fetchBytes(site.base + photo.src, { headers: { 'if-none-match': etag } });
    assert.equal(again.res.status, 304);
    assert.equal(again.bytes.length, 0);
    const head = await fetchBytes(site.base + photo.src, { method: 'HEAD' });
    assert.equal(head.res.status, 200);
    assert.equal(head.res.headers.get('content-type'), 'image/png');
    assert.equal(head.bytes.length, 0);
  });

  test('an SVG is served so that no script in it can run', async () => {
    const [, diagram] = bodyImages((await get(`${site.base}${POST}`)).body);
    const { res, bytes } = await fetchBytes(site.base + diagram.src);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/svg+xml');
    assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('cache-control'), IMMUTABLE);
    assert.match(bytes.toString('utf8'), /<script>/, 'the fixture does carry a script');
  });

  test('a link to a PDF points at its published copy, served as application/pdf', async () => {
    const { body } = await get(`${site.base}${POST}`);
    const href = /<a href="([^"]*)">the one-page report \(PDF\)<\/a>/.exec(body)?.[1];
    assert.match(href ?? '', FILE_URL);
    const { res, bytes } = await fetchBytes(site.base + href);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/pdf');
    assert.equal(res.headers.get('cache-control'), IMMUTABLE);
    assert.deepEqual(bytes, await fs.readFile(path.join(FIXTURES, 'files/report.pdf')));
  });

  test('the cover is the OpenGraph and Twitter image, absolute, with its size', async () => {
    const { body } = await get(`${site.base}${POST}`);
    const image = meta(body, 'property', 'og:image');
    assert.match(image ?? '', /^https?:\/\/[^/]+\/files\/[0-9a-f]{32}\.png$/);
    assert.equal(meta(body, 'name', 'twitter:image'), image);
    assert.equal(meta(body, 'name', 'twitter:card'), 'summary_large_image');
    const cover = pngSize(await fs.readFile(path.join(FIXTURES, 'cover.png')));
    assert.equal(meta(body, 'property', 'og:image:width'), String(cover.width));
    assert.equal(meta(body, 'property', 'og:image:height'), String(cover.height));
    const { res, bytes } = await fetchBytes(site.base + new URL(image).pathname);
    assert.equal(res.status, 200);
    assert.deepEqual(bytes, await fs.readFile(path.join(FIXTURES, 'cover.png')));
    // A post without a cover is shared with the card sync drew for it.
    const other = await get(`${site.base}/posts/apple-native-container-cli`);
    assert.equal(meta(other.body, 'name', 'twitter:card'), 'summary_large_image');
    assert.match(meta(other.body, 'property', 'og:image') ?? '', /^https?:\/\/[^/]+\/files\/[0-9a-f]{32}\.png$/);
    assert.notEqual(meta(other.body, 'property', 'og:image'), image);
    assert.equal(meta(other.body, 'property', 'og:image:width'), '1200');
  });

  test('feeds carry the images with absolute URLs', async () => {
    const { body } = await get(`${site.base}/feed.xml`);
    assert.match(body, /src=(&quot;|")https?:\/\/[^/]+\/files\/[0-9a-f]{32}\.png/);
    assert.doesNotMatch(body, /src=(&quot;|")\/files\//);
  });

  test('file URLs that are not a stored content-addressed name are 404', async () => {
    for (const p of ['/files/00000000000000000000000000000000.png', '/files/photo.png', '/files/', '/files/x/y.png']) {
      const res = await get(`${site.base}${p}`);
      assert.equal(res.status, 404, p);
      assert.match(res.body, /Page not found/, p);
    }
  });
});

describe('in a browser', () => {
  test('the post loads its images, with no console errors and no axe violations', { timeout: 120_000 }, async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const problems = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console.${msg.type()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`));
    page.on('response', (res) => {
      if (res.status() >= 400 && new URL(res.url()).pathname !== '/favicon.ico') problems.push(`HTTP ${res.status()}: ${res.url()}`);
    });
    try {
      const res = await page.goto(site.base + POST, { waitUntil: 'load' });
      assert.equal(res.status(), 200);
      // The page reserves the image's box before it arrives: no layout shift.
      const photo = page.locator('.body img').first();
      assert.ok((await photo.boundingBox()).height > 100);
      // Bring the lazy diagram into view, then wait for every image.
      await page.locator('.body img').last().scrollIntoViewIfNeeded();
      await page.waitForFunction(() => [...document.querySelectorAll('.body img')].every((i) => i.complete), null, { timeout: 15_000 });
      const loaded = await page.$$eval('.body img', (imgs) => imgs.map((i) => ({ src: i.getAttribute('src'), naturalWidth: i.naturalWidth })));
      assert.equal(loaded.length, 2);
      for (const img of loaded) assert.ok(img.naturalWidth > 0, `${img.src} was drawn`);
      await page.evaluate(() => window.scrollTo(0, 0));
      const { violations } = await new AxeBuilder({ page }).analyze();
      const report = violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`);
      assert.deepEqual(report, []);
      await page.screenshot({ path: path.join(ARTIFACTS, 'post-with-image.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('an SVG opened on its own runs none of its script', async () => {
    const [, diagram] = bodyImages((await get(`${site.base}${POST}`)).body);
    const context = await browser.newContext();
    const page = await context.newPage();
    const dialogs = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      d.dismiss();
    });
    try {
      const res = await page.goto(site.base + diagram.src);
      assert.equal(res.status(), 200);
      assert.equal(await page.evaluate(() => document.documentElement.localName), 'svg');
      assert.equal(await page.evaluate(() => document.documentElement.getAttribute('data-script-ran')), null);
      assert.deepEqual(dialogs, []);
    } finally {
      await context.close();
    }
  });
});

describe('a large photo', () => {
  const LARGE = '/posts/a-large-photo';
  const variantsCache = () => path.join(site.stateDir, 'blog-image-variants');
  let original;
  let webp;
  let avif;

  test('gets AVIF and WebP variants at 480, 960 and 1600 px, with the original as the fallback', { timeout: 120_000 }, async () => {
    original = photoPng(2400, 1600);
    await fs.writeFile(path.join(contentDir, 'large.png'), original);
    await fs.writeFile(
      path.join(contentDir, 'a-large-photo.md'),
      '+++\ntitle = "A Large Photo"\ndate = 2026-06-22T08:00:00Z\nsummary = "One photo, far wider than any column."\n+++\n\nAbove the photo.\n\n![Gradients with fine grain](large.png)\n',
    );
    const synced = await site.sync();
    assert.equal(synced.code, 0, synced.stdout + synced.stderr);
    assert.match(synced.stdout, /^ {2}image {5}resized large\.png -> 480, 960, 1600 px AVIF and WebP$/m);
    const summary = /^image variants: 6 added, 0 removed, 4 unchanged; 6 encoded from 1 images in (\d+\.\d\d) s \(AVIF (\d+\.\d\d) s, WebP (\d+\.\d\d) s\); widest AVIF (.+), WebP (.+) against (.+) of originals \((.+) saved, (\d+) %\)$/m.exec(synced.stdout);
    assert.ok(summary, synced.stdout);
    console.log(`a 2,400 px PNG of ${original.length} bytes: ${summary[0]}`);
    assert.ok(Number(summary[8]) >= 50, `the widest AVIF is well under the PNG: ${summary[0]}`);
    const { body } = await get(site.base + LARGE);
    const [img] = bodyImages(body);
    assert.match(img.src, /^\/files\/[0-9a-f]{32}\.png$/);
    assert.deepEqual({ width: img.width, height: img.height, alt: img.alt, loading: img.loading, decoding: img.decoding },
      { width: '2400', height: '1600', alt: 'Gradients with fine grain', loading: 'eager', decoding: 'async' });
    [avif, webp] = sourcesOf(body, img.src);
    assert.equal(avif.type, 'image/avif');
    assert.equal(webp.type, 'image/webp');
    assert.deepEqual(avif.srcset.map((c) => c.width), [480, 960, 1600]);
    assert.deepEqual(webp.srcset.map((c) => c.width), [480, 960, 1600]);
    for (const [source, sizeOf] of [[avif, avifSize], [webp, webpSize]]) {
      for (const c of source.srcset) {
        const { res, bytes } = await fetchBytes(site.base + c.url);
        assert.equal(res.status, 200, c.url);
        assert.equal(res.headers.get('content-type'), source.type);
        assert.equal(res.headers.get('cache-control'), IMMUTABLE);
        assert.deepEqual(sizeOf(bytes), { width: c.width, height: Math.round((1600 * c.width) / 2400) }, c.url);
        assert.ok(bytes.length < original.length / 4, `${c.url}: ${bytes.length} bytes`);
      }
    }
    const original2 = await fetchBytes(site.base + img.src);
    assert.deepEqual(original2.bytes, original, 'the original is still served as written');
  });

  test('Chromium picks the 480 px AVIF on a 320 px screen and the 960 px one at 1280 px', { timeout: 120_000 }, async () => {
    browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
    const picked = {};
    for (const width of [320, 1280]) {
      const context = await browser.newContext({ viewport: { width, height: 800 }, deviceScaleFactor: 1 });
      try {
        const page = await context.newPage();
        await page.goto(site.base + LARGE, { waitUntil: 'load' });
        await page.waitForFunction(() => document.querySelector('.body img')?.complete, null, { timeout: 15_000 });
        picked[width] = await page.$eval('.body img', (i) => ({ src: new URL(i.currentSrc).pathname, natural: i.naturalWidth, drawn: i.getBoundingClientRect().width }));
      } finally {
        await context.close();
      }
    }
    const url = (w) => avif.srcset.find((c) => c.width === w).url;
    assert.ok(picked[320].src.endsWith('.avif') && picked[1280].src.endsWith('.avif'), JSON.stringify(picked));
    assert.deepEqual(picked[320].src, url(480), JSON.stringify(picked));
    assert.deepEqual(picked[1280].src, url(960), JSON.stringify(picked));
    // `sizes` says what the stylesheet does: the column less the page's padding on a phone
    // (320 - 2 × 20 px), 42rem on a wide screen. The browser scales the picked file to it.
    assert.deepEqual([picked[320].drawn, picked[1280].drawn], [280, 672], JSON.stringify(picked));
    assert.deepEqual([picked[320].natural, picked[1280].natural], [280, 672], JSON.stringify(picked));
  });

  test('a second sync encodes nothing, nor one whose cache is gone; one missing variant comes from the cache', { timeout: 120_000 }, async () => {
    const again = await site.sync();
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /^image variants: 0 added, 0 removed, 10 unchanged; 0 encoded from 0 images in \d+\.\d\d s$/m);
    assert.doesNotMatch(again.stdout, /resized/);
    assert.match(again.stdout, /^Nothing to write\.$/m);
    // KV holds them: nothing to encode even without the local cache.
    await fs.rm(variantsCache(), { recursive: true, force: true });
    const bare = await site.sync();
    assert.match(bare.stdout, /^image variants: 0 added, 0 removed, 10 unchanged; 0 encoded/m, bare.stdout);
    // A variant KV lost is encoded once and kept; lost again, it comes from the cache.
    const key = keyOf(webp.srcset[1].url);
    for (const expected of [/1 added, 0 removed, 9 unchanged; 1 encoded from 1 images/, /1 added, 0 removed, 9 unchanged; 0 encoded from 0 images in \d+\.\d\d s, 1 from the local cache/]) {
      const { code, stderr } = await run(WRANGLER, ['kv', 'key', 'delete', key, '--binding', 'POSTS', '--local', '--persist-to', site.stateDir]);
      assert.equal(code, 0, stderr);
      const repaired = await site.sync();
      assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
      assert.match(repaired.stdout, new RegExp(`^image variants: ${expected.source}`, 'm'), repaired.stdout);
      assert.equal((await fetchBytes(site.base + webp.srcset[1].url)).res.status, 200);
    }
  });

  test('removing the post removes its variants with the original', async () => {
    await fs.rm(path.join(contentDir, 'a-large-photo.md'));
    const synced = await site.sync();
    assert.equal(synced.code, 0, synced.stdout + synced.stderr);
    // The photo and the post's social card.
    assert.match(synced.stdout, /^0 files added, 2 removed, 4 unchanged$/m);
    assert.match(synced.stdout, /^image variants: 0 added, 6 removed, 4 unchanged; /m);
    const keys = (await storedFiles()).map((k) => k.name);
    for (const c of [...avif.srcset, ...webp.srcset]) {
      assert.ok(!keys.includes(keyOf(c.url)), c.url);
      assert.equal((await get(site.base + c.url)).status, 404, c.url);
    }
  });
});

describe('a picture that cannot be decoded', () => {
  test('stops the sync at the line that shows it, and nothing is written', async () => {
    // A PNG header that says 900 x 600, with no pixels after it.
    const broken = Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', rgbHeader(900, 600))]);
    await fs.writeFile(path.join(contentDir, 'broken.png'), broken);
    const post = path.join(contentDir, 'a-broken-photo.md');
    await fs.writeFile(post, '+++\ntitle = "A Broken Photo"\ndate = 2026-06-23T08:00:00Z\nsummary = "S."\n+++\n\nText.\n\n![Nothing to see](broken.png)\n');
    const before = (await storedFiles()).map((k) => k.name).sort();
    try {
      const synced = await site.sync();
      assert.equal(synced.code, 1, synced.stdout + synced.stderr);
      assert.match(synced.stderr, /a-broken-photo\.md:9: error: the image broken\.png cannot be resized: /);
      assert.match(synced.stderr, /1 error: nothing was written/);
      assert.equal((await get(`${site.base}/posts/a-broken-photo`)).status, 404);
      assert.deepEqual((await storedFiles()).map((k) => k.name).sort(), before);
    } finally {
      await fs.rm(post);
      await fs.rm(path.join(contentDir, 'broken.png'));
    }
  });
});

describe('blog check', () => {
  test('reports a missing file and an escaping path with file:line, a missing alt text, and a file over 25 MiB', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'blog-check-images-'));
    try {
      const post = (extra, body) => `+++\ntitle = "T"\ndate = 2026-01-01\nsummary = "S."\n${extra}+++\n\n${body}\n`;
      await fs.writeFile(path.join(dir, 'a.md'), post('cover = "gone.png"\n', 'Text.\n\n![A chart](x.png)\n\n[secret](../secret.txt)'));
      await fs.writeFile(path.join(dir, 'b.md'), post('', '![](ok.png)\n\n[video](big.zip)'));
      await fs.writeFile(path.join(dir, 'ok.png'), png(2, 2, [0, 0, 0]));
      // Sparse: 26 MiB on paper, nothing on disk.
      const big = await fs.open(path.join(dir, 'big.zip'), 'w');
      await big.truncate(26 * 1024 * 1024);
      await big.close();
      const { code, stderr } = await run(BLOG, ['check', '--content', dir]);
      assert.equal(code, 1, stderr);
      assert.match(stderr, new RegExp(`a\\.md:5: error: the cover gone\\.png does not exist \\(looked for ${dir}/gone\\.png\\)`));
      assert.match(stderr, new RegExp(`a\\.md:10: error: the image x\\.png does not exist \\(looked for ${dir}/x\\.png\\)`));
      assert.match(stderr, /a\.md:12: error: the file \.\.\/secret\.txt leads outside the content folder/);
      assert.match(stderr, /b\.md:7: warning: the image ok\.png has no alt text/);
      assert.match(stderr, new RegExp(`b\\.md:9: error: the file ${dir}/big\\.zip is over 25 MiB`));
      assert.match(stderr, /4 errors: nothing was written/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('when files change', () => {
  test('changing the image changes its URL; the old file goes once nothing uses it', async () => {
    const [before] = bodyImages((await get(`${site.base}${POST}`)).body);
    const changed = png(48, 30, [200, 80, 40]);
    await fs.writeFile(path.join(contentDir, 'photo.png'), changed);
    const synced = await site.sync();
    assert.equal(synced.code, 0, synced.stdout + synced.stderr);
    assert.match(synced.stdout, /^ {2}updated +pictures-beside-a-post$/m);
    assert.match(synced.stdout, /^1 files added, 1 removed, 3 unchanged$/m);
    // The new photo is 48 px wide: one variant a format at its own width, the old ones removed.
    assert.match(synced.stdout, /^image variants: 2 added, 4 removed, 0 unchanged; 2 encoded from 1 images/m);
    assert.match(synced.stdout, new RegExp(`^ {2}file removed ${before.src.replace('.', '\\.')}$`, 'm'));
    const [after] = bodyImages((await get(`${site.base}${POST}`)).body);
    assert.match(after.src, FILE_URL);
    assert.notEqual(after.src, before.src);
    assert.deepEqual({ width: after.width, height: after.height }, { width: '48', height: '30' });
    const now = await fetchBytes(site.base + after.src);
    assert.equal(now.res.status, 200);
    assert.deepEqual(now.bytes, changed);
    assert.equal((await get(site.base + before.src)).status, 404);
    const keys = (await storedFiles()).map((k) => k.name);
    assert.ok(keys.includes(keyOf(after.src)) && !keys.includes(keyOf(before.src)), keys.join('\n'));
    const again = await site.sync();
    assert.match(again.stdout, /^0 files added, 0 removed, 4 unchanged$/m);
    assert.match(again.stdout, /^image variants: 0 added, 0 removed, 2 unchanged; 0 encoded/m);
    assert.match(again.stdout, /^Nothing to write\.$/m);
  });

  test('deleting the post removes its files on the next sync', async () => {
    const { body } = await get(`${site.base}${POST}`);
    const urls = [...bodyImages(body).map((i) => i.src), new URL(meta(body, 'property', 'og:image')).pathname];
    await fs.rm(path.join(contentDir, 'pictures-beside-a-post.md'));
    const synced = await site.sync();
    assert.equal(synced.code, 0, synced.stdout + synced.stderr);
    assert.match(synced.stdout, /^ {2}removed +pictures-beside-a-post$/m);
    assert.match(synced.stdout, /^0 files added, 4 removed, 0 unchanged$/m);
    assert.deepEqual(await storedFiles(), []);
    assert.equal((await get(`${site.base}${POST}`)).status, 404);
    for (const url of urls) assert.equal((await get(site.base + url)).status, 404, url);
  });
});
