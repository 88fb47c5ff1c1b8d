// The author's own site: settings in site.toml reach the running worker with a sync (no
// rebuild, no restart), dates follow the site's time zone, bad settings are refused at their
// line with nothing written, and the favicon, stylesheet and manifest are linked with a
// fingerprint and cached for a year under it.
// The tests run in order against one site: later ones change what earlier ones checked.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT, get, getIndex, run, startSite, WRANGLER } from './harness.mjs';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const DEFAULT_SETTINGS = path.join(ROOT, 'site.toml');

let site;
let dir;

/** Front matter and a body for a post. */
const post = (title, date) => `+++\ntitle = "${title}"\ndate = ${date}\nsummary = "Dated ${date}."\n+++\n\nA post dated ${date}.\n`;

/** `site.toml` as shipped, with `changes` ({ key: 'toml value' }) applied and `extra` appended. */
async function settingsWith(changes, extra = '') {
  let text = await fs.readFile(DEFAULT_SETTINGS, 'utf8');
  for (const [key, value] of Object.entries(changes)) {
    const line = new RegExp(`^${key} = .*$`, 'm');
    assert.match(text, line, `site.toml has no ${key}`);
    text = text.replace(line, `${key} = ${value}`);
  }
  const file = path.join(dir, `site-${Math.random().toString(36).slice(2)}.toml`);
  await fs.writeFile(file, text + extra);
  return { file, text: text + extra };
}

/** The 1-based line of `key = ` in a settings text. */
const lineOf = (text, key) => text.split('\n').findIndex((l) => l.startsWith(`${key} = `)) + 1;

/** The href of the first `<link rel="{rel}">`. */
const linkHref = (html, rel) => new RegExp(`<link rel="${rel}" href="([^"]*)"`).exec(html)?.[1];

/** The index's post entry for a path, with the year it is listed under. */
function entry(index, href) {
  for (const y of index.years) {
    const p = y.posts.find((x) => x.href === href);
    if (p) return { year: y.year, ...p };
  }
  return undefined;
}

async function kvVersion() {
  const { code, stdout, stderr } = await run(WRANGLER, [
    'kv', 'key', 'get', 'version', '--binding', 'POSTS', '--local', '--persist-to', site.stateDir, '--text',
  ]);
  assert.equal(code, 0, stderr);
  return stdout.trim();
}

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'blog-e2e-settings-'));
  site = await startSite({ copyContent: true, sync: false });
  // Two posts whose dates a time zone moves: an instant written in UTC early on New Year's
  // Day, and a bare date.
  await fs.writeFile(path.join(site.contentDir, 'tz-new-year.md'), post('Written at New Year', '2026-01-01T03:00:00Z'));
  await fs.writeFile(path.join(site.contentDir, 'tz-bare-date.md'), post('A bare date', '2026-03-01'));
  const synced = await site.sync();
  assert.equal(synced.code, 0, synced.stderr);
});

after(async () => {
  await site?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('favicon, stylesheet and web app manifest', () => {
  test('pages link them with a fingerprint, and each answers under it with a year of caching', async () => {
    const { body } = await get(`${site.base}/`);
    const links = {
      stylesheet: [linkHref(body, 'stylesheet'), 'text/css; charset=utf-8'],
      icon: [linkHref(body, 'icon'), 'image/svg+xml'],
      manifest: [linkHref(body, 'manifest'), 'application/manifest+json'],
    };
    for (const [rel, [href, type]] of Object.entries(links)) {
      assert.match(href ?? '', /^\/[a-z.]+\?v=[0-9a-f]{8}$/, `<link rel="${rel}"> is fingerprinted`);
      const res = await get(`${site.base}${href}`);
      assert.equal(res.status, 200, `GET ${href}`);
      assert.equal(res.headers.get('content-type'), type, `GET ${href}`);
      assert.equal(res.headers.get('cache-control'), IMMUTABLE, `GET ${href}`);
      // The bare path still answers, for a day, as does an outdated fingerprint.
      const bare = href.replace(/\?.*/, '');
      for (const p of [bare, `${bare}?v=00000000`]) {
        const other = await get(`${site.base}${p}`);
        assert.equal(other.status, 200, `GET ${p}`);
        assert.equal(other.headers.get('cache-control'), 'public, max-age=86400', `GET ${p}`);
        assert.equal(other.body, res.body, `GET ${p} is the same file`);
      }
    }
    const manifest = JSON.parse((await get(`${site.base}${links.manifest[0]}`)).body);
    assert.equal(manifest.name, 'Writing');
    assert.equal(manifest.lang, 'en');
    assert.equal(manifest.icons[0].src, links.icon[0], 'the manifest points at the fingerprinted icon');
  });
});

describe('site settings', () => {
  let before;

  test('with the defaults, dates are shown in UTC', async () => {
    const index = await getIndex(site);
    before = { index, html: (await get(`${site.base}/`)).body };
    assert.deepEqual(
      { ...entry(index, '/posts/tz-new-year'), href: undefined, title: undefined, summary: undefined },
      { year: '2026', date: 'Jan 1, 2026', datetime: '2026-01-01T03:00:00Z', href: undefined, title: undefined, summary: undefined },
    );
    assert.equal(entry(index, '/posts/tz-bare-date').datetime, '2026-03-01T00:00:00Z');
    assert.ok(index.popular.length > 2, `Popular Reads lists ${index.popular.length} posts by default`);
  });

  test('a changed site.toml reaches the running worker with a sync: no rebuild, no restart', async () => {
    const pid = site.child.pid;
    const { file } = await settingsWith(
      {
        title: '"Field Notes"',
        tagline: '"Notes from the field, <b>unbolded</b>."',
        author: '"Ada Example"',
        base_url: '"https://notes.example"',
        language: '"en-GB"',
        time_zone: '"America/Los_Angeles"',
        feed_posts: '3',
        popular_count: '2',
      },
      '\n[[nav]]\nlabel = "About me"\nurl = "/posts/tz-bare-date"\n',
    );
    const synced = await site.sync(['--settings', file]);
    assert.equal(synced.code, 0, synced.stderr);
    assert.equal(site.child.pid, pid, 'the same dev server serves the new settings');

    const { body: html } = await get(`${site.base}/`);
    const index = await getIndex(site);
    assert.equal(index.h1, 'Field Notes');
    assert.equal(index.tagline, 'Notes from the field, <b>unbolded</b>.', 'the tagline is text, escaped');
    assert.match(html, /<title>Field Notes<\/title>/);
    assert.match(html, /<html lang="en-GB">/);
    assert.match(html, /<link rel="canonical" href="https:\/\/notes\.example\/">/);
    assert.match(html, /<nav aria-label="Site">\s*<a href="\/posts\/tz-bare-date">About me<\/a>/);
    assert.equal(index.popular.length, 2, 'popular_count');
    assert.notEqual(linkHref(html, 'manifest'), linkHref(before.html, 'manifest'), 'the manifest link changes with the settings');
    const manifest = JSON.parse((await get(`${site.base}${linkHref(html, 'manifest')}`)).body);
    assert.deepEqual([manifest.name, manifest.lang], ['Field Notes', 'en-GB']);

    const atom = (await get(`${site.base}/feed.xml`)).body;
    assert.equal(atom.match(/<entry>/g)?.length, 3, 'feed_posts');
    assert.match(atom, /<title[^>]*>Field Notes<\/title>/);
    assert.match(atom, /<name>Ada Example<\/name>/);
    assert.match(atom, /<link [^>]*href="https:\/\/notes\.example\/posts\//);

    // America/Los_Angeles: 03:00 UTC on New Year's Day is New Year's Eve there, listed
    // under 2025; a bare date is midnight there, and still shows as that day.
    const newYear = entry(index, '/posts/tz-new-year');
    assert.deepEqual([newYear.year, newYear.date, newYear.datetime], ['2025', 'Dec 31, 2025', '2025-12-31T19:00:00-08:00']);
    const bare = entry(index, '/posts/tz-bare-date');
    assert.deepEqual([bare.year, bare.date, bare.datetime], ['2026', 'Mar 1, 2026', '2026-03-01T00:00:00-08:00']);
    const page = (await get(`${site.base}/posts/tz-new-year`)).body;
    assert.match(page, /<time datetime="2025-12-31T19:00:00-08:00">Dec 31, 2025<\/time>/);
    assert.match(page, /"datePublished":"2025-12-31T19:00:00-08:00"/);
    const json = JSON.parse((await get(`${site.base}/feed.json`)).body);
    assert.equal(json.items.length, 3, 'feed_posts');
    for (const item of json.items) {
      assert.match(item.date_published, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-0[78]:00$/, `${item.url}: the instant with the site's offset`);
    }
  });

  test('bad settings are refused by check and sync at their line, and nothing is written', async () => {
    const version = await kvVersion();
    const html = (await get(`${site.base}/`)).body;
    const cases = [
      ['time_zone', '"Mars/Olympus"', /`time_zone` must be an IANA time zone name/],
      ['popular_count', '0', /`popular_count` must be between 1 and 100/],
      ['base_url', '"notes.example"', /`base_url` must be an absolute http\(s\) URL/],
      ['feed_posts', '"many"', /invalid/],
    ];
    for (const [key, value, message] of cases) {
      const { file, text } = await settingsWith({ [key]: value });
      const where = `${file}:${lineOf(text, key)}: error:`;
      for (const command of ['check', 'sync']) {
        const result = await site[command](['--settings', file]);
        assert.notEqual(result.code, 0, `blog ${command} with ${key} = ${value} fails`);
        assert.ok(result.stderr.includes(where), `blog ${command} names ${where}\n${result.stderr}`);
        assert.match(result.stderr, message);
      }
    }
    assert.equal(await kvVersion(), version, 'no failed sync wrote a new version');
    assert.equal((await get(`${site.base}/`)).body, html, 'the site is as it was');
  });

  test('syncing the shipped site.toml brings every default back', async () => {
    const synced = await site.sync();
    assert.equal(synced.code, 0, synced.stderr);
    const index = await getIndex(site);
    assert.equal(index.h1, 'Writing');
    assert.equal(entry(index, '/posts/tz-new-year').date, 'Jan 1, 2026');
    assert.equal(index.popular.length, before.index.popular.length);
  });
});
