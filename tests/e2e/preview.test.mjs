// Preview links, end to end: `blog preview` publishes a draft under /preview/{token}; the link
// survives edits and syncs, turns into a 301 once the post is out, and answers the ordinary
// 404 once revoked or when guessed. A preview shows up nowhere else: not in feeds, the
// sitemap, search, the archive, tags, Popular Reads or the read counts, nor in KV's keys.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BLOG, get, run, startSite } from './harness.mjs';
import { BROWSER, contentWith, kvKeys, popularOrder, postText, readsShown, sleep } from './support.mjs';

const TITLE = 'Zanzibar Preview Draft';
/** A word only the previewed draft uses: search must not find it. */
const WORD = 'quokkaberry';
const DRAFT = postText({
  title: TITLE,
  date: '2026-01-01',
  summary: 'Read before it is out.',
  extra: 'draft = true\ntags = ["rust", "previewtag"]\n',
  body: `The ${WORD} draft. See [the other draft](/posts/other-draft).`,
});
const OTHER = postText({ title: 'Other Draft', extra: 'draft = true\n', body: 'Another draft.' });

let site;
let dir;
let token;
let otherToken;

const preview = (args) => run(BLOG, ['preview', '--persist-to', site.stateDir, '--content', dir, ...args]);
const linkIn = (stdout) => /\/preview\/([0-9a-f]{48})\b/.exec(stdout)?.[1];
const noRedirect = { redirect: 'manual' };

before(async () => {
  dir = await contentWith({ 'preview-me.md': DRAFT, 'other-draft.md': OTHER });
  site = await startSite({ contentDir: dir });
});
after(async () => {
  await site?.stop();
  await fs.rm(dir, { recursive: true, force: true });
  await fs.rm(`${dir}.previews`, { force: true });
});

test('blog preview prints a secret link to the draft, marked, noindex and kept by no cache', async () => {
  const out = await preview([path.join(dir, 'preview-me.md')]);
  assert.equal(out.code, 0, out.stderr);
  token = linkIn(out.stdout);
  assert.ok(token, out.stdout);
  const other = await preview([path.join(dir, 'other-draft.md')]);
  otherToken = linkIn(other.stdout);
  assert.ok(otherToken && otherToken !== token, other.stdout);
  const tokens = await fs.readFile(`${dir}.previews`, 'utf8');
  assert.match(tokens, new RegExp(`${token} preview-me\\.md`));
  assert.equal((await fs.stat(`${dir}.previews`)).mode & 0o077, 0, 'the tokens file is its owner’s only');

  const res = await get(`${site.base}/preview/${token}`);
  assert.equal(res.status, 200, site.log());
  assert.match(res.body, new RegExp(`<h1>${TITLE}</h1>`));
  assert.match(res.body, /class="preview-note"[^>]*><strong>Preview<\/strong>/);
  assert.match(res.body, /<meta name="robots" content="noindex">/);
  assert.equal(res.headers.get('x-robots-tag'), 'noindex');
  assert.equal(res.headers.get('cache-control'), 'private, no-store');
  assert.doesNotMatch(res.body, /reads\.svg/, 'a preview carries no read badge');
  // Its link to the other draft is the plain post address, never that draft's preview.
  assert.match(res.body, /href="\/posts\/other-draft"/);
  assert.ok(!res.body.includes(otherToken) && !res.body.includes(token), 'no token in the page');
  assert.equal((await get(`${site.base}/posts/preview-me`)).status, 404, 'still a draft');
});

test('a guessed, altered or malformed token answers the ordinary 404', async () => {
  const ordinary = await get(`${site.base}/posts/no-such-post`);
  assert.equal(ordinary.status, 404);
  const flipped = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');
  for (const guess of [crypto.randomBytes(24).toString('hex'), flipped, token.slice(1), token.toUpperCase()]) {
    const res = await get(`${site.base}/preview/${guess}`);
    assert.equal(res.status, 404, guess);
    assert.equal(res.body, ordinary.body, `${guess}: the ordinary 404 page`);
    assert.equal(res.headers.get('cache-control'), ordinary.headers.get('cache-control'));
  }
});

test('the preview appears nowhere public, and no public key or record names a token', async () => {
  // Readers reading the preview are not counted: nothing is recorded under the post.
  for (let i = 0; i < 3; i++) {
    await get(`${site.base}/preview/${token}`, { headers: { 'user-agent': BROWSER, 'cf-connecting-ip': `198.51.100.${i + 1}` } });
  }
  const pages = ['/', '/archive', '/2026/', '/tags', '/tags/rust', '/feed.xml', '/rss.xml', '/feed.json', '/sitemap.xml', '/sitemap-1.xml', '/tags/rust/feed.xml'];
  for (const p of pages) {
    const { status, body } = await get(`${site.base}${p}`);
    assert.equal(status, 200, p);
    for (const secret of [TITLE, 'preview-me', '/preview/', 'previewtag', token, otherToken]) {
      assert.ok(!body.includes(secret), `${p} shows ${secret}`);
    }
  }
  assert.equal((await get(`${site.base}/tags/previewtag`)).status, 404);
  assert.ok(!popularOrder((await get(`${site.base}/`)).body).includes('/posts/preview-me'), 'not in Popular Reads');
  const found = await get(`${site.base}/search?q=${WORD}`);
  assert.ok(!found.body.includes('preview-me') && !found.body.includes(token), 'search finds no preview');
  // Every post page's related posts and neighbours leave it out too.
  const front = (await get(`${site.base}/`)).body;
  for (const href of new Set([...front.matchAll(/href="(\/posts\/[^"/]+)"/g)].map((m) => m[1]))) {
    const { body } = await get(`${site.base}${href}`);
    assert.ok(!body.includes('preview-me') && !body.includes(TITLE), `${href} links the preview`);
  }
  const keys = await kvKeys(site.stateDir);
  const listing = JSON.stringify(keys);
  assert.ok(!listing.includes(token) && !listing.includes(otherToken), 'no key or metadata holds a token');
  const previews = keys.filter((k) => k.name.startsWith('preview/'));
  assert.equal(previews.length, 2);
  const hash = crypto.createHash('sha256').update(token).digest('hex');
  assert.ok(previews.some((k) => k.name === `preview/${hash}`), 'kept under the token’s SHA-256');
  // The records public pages are built from (site, lists, tags, search's head).
  const records = ['site', 'tags', 'list/front', 'list/feed', 'list/sitemap/1', 'search/head'];
  for (const name of records) {
    assert.ok(keys.some((k) => k.name === name), `${name} is in KV`);
    const { stdout } = await site.kv(['key', 'get', name]);
    assert.ok(!stdout.includes(token) && !stdout.includes(hash) && !stdout.includes('preview-me'), `${name} names the preview`);
  }
});

test('an edit keeps the same link: blog sync rewrites the preview, blog preview prints it again', async () => {
  await fs.writeFile(path.join(dir, 'preview-me.md'), DRAFT.replace('draft. See', 'draft, edited. See'));
  const synced = await site.sync();
  assert.equal(synced.code, 0, synced.stderr);
  assert.match(synced.stdout, /preview of preview-me\.md updated/);
  assert.doesNotMatch(synced.stdout, /preview of other-draft\.md/, 'an unchanged preview is not written');
  const res = await get(`${site.base}/preview/${token}`);
  assert.match(res.body, /draft, edited\. See/);
  const again = await preview([path.join(dir, 'preview-me.md')]);
  assert.equal(linkIn(again.stdout), token);
});

test('blog sync --preview links every draft and keeps the links it has', async () => {
  await fs.writeFile(path.join(dir, 'third.md'), postText({ title: 'Third Draft', extra: 'draft = true\n' }));
  const synced = await site.sync(['--preview']);
  assert.equal(synced.code, 0, synced.stderr);
  const links = Object.fromEntries([...synced.stdout.matchAll(/^ {2}(\S+\.md) {2}\S*\/preview\/([0-9a-f]{48})$/gm)].map((m) => [m[1], m[2]]));
  assert.equal(links['preview-me.md'], token);
  assert.equal(links['other-draft.md'], otherToken);
  assert.ok(links['third.md'], synced.stdout);
  assert.ok(!('apple-native-container-cli.md' in links), 'a published post gets no preview');
  const third = await get(`${site.base}/preview/${links['third.md']}`);
  assert.match(third.body, /<h1>Third Draft<\/h1>/);
});

test('once published, the preview link answers 301 to the post, which counts from zero', async () => {
  await fs.writeFile(path.join(dir, 'preview-me.md'), DRAFT.replace('draft = true\n', ''));
  const synced = await site.sync();
  assert.equal(synced.code, 0, synced.stderr);
  const res = await get(`${site.base}/preview/${token}`, noRedirect);
  assert.equal(res.status, 301);
  assert.equal(new URL(res.headers.get('location'), site.base).pathname, '/posts/preview-me');
  assert.equal(res.headers.get('cache-control'), 'private, no-store');
  assert.equal((await get(`${site.base}/posts/preview-me`)).status, 200);
  // The three preview reads before were never counted (counts refresh every 10 s).
  await sleep(11_000);
  assert.equal(await readsShown(site, '/posts/preview-me'), 0);
});

test('a revoked link answers the ordinary 404 and its token leaves the tokens file', async () => {
  const out = await preview(['--revoke', path.join(dir, 'other-draft.md')]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /Revoked/);
  const res = await get(`${site.base}/preview/${otherToken}`);
  assert.equal(res.status, 404);
  assert.ok(!(await fs.readFile(`${dir}.previews`, 'utf8')).includes(otherToken));
  const keys = await kvKeys(site.stateDir);
  const hash = crypto.createHash('sha256').update(otherToken).digest('hex');
  assert.ok(!keys.some((k) => k.name === `preview/${hash}`));
  // A new preview of it is a new link; the old one stays dead.
  const again = await preview([path.join(dir, 'other-draft.md')]);
  assert.notEqual(linkIn(again.stdout), otherToken);
  assert.equal((await get(`${site.base}/preview/${otherToken}`)).status, 404);
});
