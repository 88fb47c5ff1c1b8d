// Everything readers and authors expect beyond the index: feeds, tags, metadata, drafts,
// scheduled posts, reading features, honest read counts, aliases and renames, author tools.
// One site, content = the project's posts plus tests/fixtures/posts.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BLOG, CONTENT, ROOT, get, run, startSite, textOf, waitFor } from './harness.mjs';

const FIXTURES = path.join(ROOT, 'tests/fixtures/posts');
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const TOUR = '/posts/feature-tour';
/** Seconds from sync until the scheduled post is due. */
const SCHEDULED_IN = 40;

let site;
let contentDir;
let scheduledAt;

/** A browser-like GET from a given reader (the local runtime passes CF-Connecting-IP through). */
function readAs(reader, p, headers = {}) {
  return get(`${site.base}${p}`, { headers: { 'user-agent': BROWSER, 'cf-connecting-ip': reader, ...headers } });
}

function isoIn(seconds) {
  return new Date(Math.ceil(Date.now() / 1000 + seconds) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The count a post's read badge shows (the post page embeds it as an image). */
async function readsShown(slugPath) {
  const { status, body } = await get(`${site.base}${slugPath}/reads.svg`);
  if (status !== 200) return null;
  const m = /<text[^>]*>([\d,]+) reads?<\/text>/.exec(body);
  return m ? Number(m[1].replace(/,/g, '')) : null;
}

before(async () => {
  contentDir = await fs.mkdtemp(path.join(os.tmpdir(), 'blog-e2e-features-'));
  await fs.cp(CONTENT, contentDir, { recursive: true });
  for (const f of await fs.readdir(FIXTURES)) await fs.copyFile(path.join(FIXTURES, f), path.join(contentDir, f));
  site = await startSite({ contentDir });
});

after(async () => {
  await site?.stop();
  await fs.rm(contentDir, { recursive: true, force: true });
});

describe('feeds and discovery', () => {
  for (const [p, type] of [
    ['/feed.xml', 'application/atom+xml'],
    ['/rss.xml', 'application/rss+xml'],
    ['/feed.json', 'application/feed+json'],
    ['/tags/rust/feed.xml', 'application/atom+xml'],
  ]) {
    test(`${p} is ${type} with full content and absolute links`, async () => {
      const { status, headers, body } = await get(`${site.base}${p}`);
      assert.equal(status, 200);
      assert.equal(headers.get('content-type').split(';')[0], type);
      // Full content, not the summary: a sentence from deep inside the body.
      assert.match(body, /exercises the renderer/);
      assert.doesNotMatch(body, /(href|src)=(\\?"|&quot;)\//, 'a root-relative URL in a feed');
      assert.doesNotMatch(body, /A Scheduled Post|An Unfinished Draft/);
    });
  }

  test('a real feed parser reads every feed without complaint', async () => {
    const urls = ['/feed.xml', '/rss.xml', '/feed.json', '/tags/rust/feed.xml'].map((p) => site.base + p);
    const { code, stdout, stderr } = await run('python3', ['tests/feedcheck.py', ...urls]);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /4 of 4 feeds ok/);
  });

  test('every page announces the feeds in its head', async () => {
    for (const p of ['/', TOUR, '/tags', '/tags/rust', '/no-such-page']) {
      const { body } = await get(`${site.base}${p}`);
      for (const type of ['application/atom+xml', 'application/rss+xml', 'application/feed+json']) {
        assert.match(body, new RegExp(`<link rel="alternate" type="${type.replace('+', '\\+')}"[^>]*href="/`), `${p}: ${type}`);
      }
    }
    const { body } = await get(`${site.base}/tags/rust`);
    assert.match(body, /<link rel="alternate" type="application\/atom\+xml" title="[^"]*" href="\/tags\/rust\/feed.xml">/);
  });

  test('sitemap lists every published page with absolute URLs; robots names it', async () => {
    const { status, headers, body: index } = await get(`${site.base}/sitemap.xml`);
    assert.equal(status, 200);
    assert.match(headers.get('content-type'), /xml/);
    assert.match(index, /<sitemapindex xmlns="http:\/\/www\.sitemaps\.org\/schemas\/sitemap\/0\.9">/);
    const parts = [...index.matchAll(/<loc>([^<]*)<\/loc>/g)].map((m) => m[1]);
    assert.deepEqual(parts.map((p) => new URL(p).pathname), ['/sitemap-1.xml']);
    const part = await get(`${site.base}${new URL(parts[0]).pathname}`);
    assert.equal(part.status, 200);
    assert.match(part.headers.get('content-type'), /xml/);
    const body = part.body;
    assert.match(body, /<urlset xmlns=/);
    assert.equal((await get(`${site.base}/sitemap-2.xml`)).status, 404, 'no second part');
    const locs = [...body.matchAll(/<loc>([^<]*)<\/loc>/g)].map((m) => m[1]);
    assert.ok(locs.some((l) => l.endsWith('/archive')));
    assert.ok(locs.every((l) => /^https?:\/\//.test(l)), locs.join('\n'));
    assert.ok(locs.some((l) => l.endsWith(TOUR)));
    assert.ok(locs.some((l) => l.endsWith('/tags/markdown')));
    assert.ok(!locs.some((l) => /scheduled|a-draft/.test(l)));
    const robots = await get(`${site.base}/robots.txt`);
    assert.match(robots.body, /^Sitemap: https?:\/\/\S+\/sitemap\.xml$/m);
  });

  test('a post head carries description, canonical, OpenGraph, Twitter and BlogPosting data', async () => {
    const { body } = await get(`${site.base}${TOUR}`);
    const meta = (attr, name) => new RegExp(`<meta ${attr}="${name}" content="([^"]*)">`).exec(body)?.[1];
    const summary = 'Every reading feature on one page: <b>anchors</b>, contents, footnotes & more.';
    assert.equal(textOf(meta('name', 'description')), summary);
    assert.equal(meta('property', 'og:type'), 'article');
    assert.match(meta('property', 'og:url'), /^https?:\/\/[^/]+\/posts\/feature-tour$/);
    assert.equal(textOf(meta('name', 'twitter:description')), summary);
    assert.match(body, /<link rel="canonical" href="https?:\/\/[^/]+\/posts\/feature-tour">/);
    const ld = JSON.parse(/<script type="application\/ld\+json">([\s\S]*?)<\/script>/.exec(body)[1]);
    assert.equal(ld['@type'], 'BlogPosting');
    assert.equal(ld.headline, 'A <Feature> Tour & "Everything" Markdown Does');
    assert.equal(ld.datePublished, '2026-06-20T08:00:00Z');
    // Titles with markup are escaped, never interpreted.
    assert.doesNotMatch(body, /<Feature>|<b>anchors/);
  });
});

describe('tags', () => {
  test('/tags lists every tag with its count and links', async () => {
    const { status, body } = await get(`${site.base}/tags`);
    assert.equal(status, 200);
    assert.match(body, /<a href="\/tags\/rust">rust<\/a> <span class="count">\d+ posts?<\/span>/);
    assert.match(body, /<a href="\/tags\/markdown">Markdown<\/a> <span class="count">1 post<\/span>/);
  });

  test('a tag page lists its posts; a post links its tags; unknown tags are 404', async () => {
    const tag = await get(`${site.base}/tags/markdown`);
    assert.equal(tag.status, 200);
    assert.match(tag.body, /href="\/posts\/feature-tour"/);
    assert.doesNotMatch(tag.body, /href="\/posts\/apple-native-container-cli"/);
    const post = await get(`${site.base}${TOUR}`);
    assert.match(post.body, /<a href="\/tags\/markdown">Markdown<\/a>/);
    assert.equal((await get(`${site.base}/tags/no-such-tag`)).status, 404);
    assert.equal((await get(`${site.base}/tags/no-such-tag/feed.xml`)).status, 404);
  });
});

describe('reading', () => {
  test('headings have stable ids and anchors; three sections get a table of contents', async () => {
    const { body } = await get(`${site.base}${TOUR}`);
    for (const id of ['first-section', 'second-section', 'third-section']) {
      assert.match(body, new RegExp(`<h2 id="${id}">[^<]*<a class="anchor" href="#${id}"`));
      assert.match(body, new RegExp(`<nav class="toc"[\\s\\S]*href="#${id}"[\\s\\S]*</nav>`));
    }
    assert.match(body, /\d+ min read/);
  });

  test('footnotes, tables, strikethrough, task lists and smart punctuation render', async () => {
    const { body } = await get(`${site.base}${TOUR}`);
    assert.match(body, /class="footnote-definition"/);
    assert.match(body, /<table>/);
    assert.match(body, /<del>struck text<\/del>/);
    assert.match(body, /<input type="checkbox" disabled checked aria-label="Done"> a done task/);
    assert.match(body, /<input type="checkbox" disabled aria-label="To do"> an open task/);
    assert.match(body, /It\u2019s \u201csmart\u201d \u2013 and/);
  });

  test('code is highlighted on the server, with no script anywhere', async () => {
    const { body } = await get(`${site.base}${TOUR}`);
    assert.match(body, /<pre tabindex="0"><code class="language-rust"><span class="k">fn\s*<\/span><span class="f">main<\/span>/);
    assert.match(body, /<span class="c">\/\/ a comment/);
    assert.doesNotMatch(body, /<script(?! type="application\/ld\+json")/);
    const css = await get(`${site.base}/style.css`);
    assert.match(css.body, /prefers-color-scheme:\s*dark/);
    assert.match(css.body, /pre code \.k/);
  });

  test('posts link their neighbours', async () => {
    const { body } = await get(`${site.base}/posts/from-342mb-to-37mb-the-go-image-i-was-shipping-wrong`);
    const nav = /<nav class="neighbours"[\s\S]*?<\/nav>/.exec(body)[0];
    assert.match(nav, /rel="prev"/);
    assert.match(nav, /href="\/posts\/how-nixpacks-buildctl-and-buildkit-fit-together"/);
    assert.match(nav, /href="\/posts\/why-ai-will-replace-coders-is-the-wrong-conversation"/);
  });
});

describe('publishing', () => {
  test('drafts are not published, except locally with --drafts', async () => {
    assert.equal((await get(`${site.base}/posts/a-draft`)).status, 404);
    assert.doesNotMatch((await get(`${site.base}/`)).body, /An Unfinished Draft/);
    const remote = await run(BLOG, ['sync', '--remote', '--drafts', '--content', contentDir]);
    assert.equal(remote.code, 2);
    assert.match(remote.stderr, /local dev only/);
    const withDrafts = await site.sync(['--drafts']);
    assert.match(withDrafts.stdout, /added\s+a-draft/);
    assert.equal((await get(`${site.base}/posts/a-draft`)).status, 200);
    const without = await site.sync();
    assert.match(without.stdout, /removed\s+a-draft/);
    assert.equal((await get(`${site.base}/posts/a-draft`)).status, 404);
  });

  test('a post dated in the future is invisible everywhere, then appears by itself', async () => {
    scheduledAt = isoIn(SCHEDULED_IN);
    await fs.writeFile(
      path.join(contentDir, 'scheduled.md'),
      `+++\ntitle = "A Scheduled Post"\ndate = ${scheduledAt}\nsummary = "Appears by itself."\ntags = ["rust"]\n+++\n\nPublished on time.\n`,
    );
    const synced = await site.sync();
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stdout, /added\s+scheduled/);
    const due = Date.parse(scheduledAt);
    assert.ok(Date.now() < due - 3000, 'the test reached this point too late to check invisibility');
    const year = `/${new Date(due).getUTCFullYear()}/`;
    const pages = ['/', '/tags/rust', year, '/feed.xml', '/rss.xml', '/feed.json', '/sitemap-1.xml'];
    for (const p of pages) {
      const { body, headers } = await get(`${site.base}${p}`);
      assert.doesNotMatch(body, /A Scheduled Post|\/posts\/scheduled/, p);
      // No cache may hold this page past the moment the post appears.
      const maxAge = Number(/max-age=(\d+)/.exec(headers.get('cache-control'))?.[1]);
      assert.ok(maxAge <= Math.ceil((due - Date.now()) / 1000) + 1, `${p}: ${headers.get('cache-control')}`);
    }
    assert.equal((await get(`${site.base}/posts/scheduled`)).status, 404);
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now() + 1200)));
    assert.equal((await get(`${site.base}/posts/scheduled`)).status, 200);
    for (const p of pages) assert.match((await get(`${site.base}${p}`)).body, /\/posts\/scheduled/, p);
    await fs.rm(path.join(contentDir, 'scheduled.md'));
    assert.match((await site.sync()).stdout, /removed\s+scheduled/);
  });
});

describe('honest read counts', () => {
  const P = '/posts/building-a-fintech-platform-with-go-microservices';

  test('only real reads count: not HEAD, prefetch, bots or the same reader twice a day', async () => {
    const before = await readsShown(P);
    assert.equal(typeof before, 'number');
    await readAs('198.51.100.1', P); // counts
    await readAs('198.51.100.1', P); // same reader, same day
    await readAs('198.51.100.2', P); // counts
    await readAs('198.51.100.3', P, { 'sec-purpose': 'prefetch' });
    await readAs('198.51.100.4', P, { purpose: 'prefetch' });
    await readAs('198.51.100.5', P, { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' });
    await readAs('198.51.100.6', P, { 'user-agent': 'curl/8.5.0' });
    await fetch(`${site.base}${P}`, { method: 'HEAD', headers: { 'user-agent': BROWSER, 'cf-connecting-ip': '198.51.100.7' } });
    await readAs('198.51.100.8', '/posts/no-such-post');
    const after = await waitFor(async () => ((await readsShown(P)) === before + 2 ? before + 2 : null), {
      timeoutMs: 40_000,
      intervalMs: 500,
      describe: () => 'count never reached before + 2',
    });
    // Settled: nothing else arrives later (counts refresh every 10 s).
    await new Promise((r) => setTimeout(r, 11_000));
    assert.equal(await waitFor(() => readsShown(P)), after);
  });

  test('the post page shows its count through a small image that follows the colour scheme', async () => {
    const { body } = await get(`${site.base}${P}`);
    assert.match(body, new RegExp(`<img class="reads" src="${P}/reads.svg" alt="Read count"`));
    const badge = await get(`${site.base}${P}/reads.svg`);
    assert.equal(badge.headers.get('content-type'), 'image/svg+xml');
    assert.match(badge.body, /<title>\d{1,3}(,\d{3})* reads?<\/title>/);
    assert.match(badge.body, /prefers-color-scheme:dark/);
    assert.match(badge.headers.get('cache-control'), /max-age=30/);
  });
});

describe('aliases and renames', () => {
  test('an alias answers 301 to the post', async () => {
    for (const old of ['/posts/old-feature-tour', '/2019/06/tour.html']) {
      const { status, headers } = await get(`${site.base}${old}`);
      assert.equal(status, 301, old);
      assert.equal(headers.get('location'), TOUR);
    }
  });

  test('renaming a slug adds the alias by itself and keeps the read count', async () => {
    const oldPath = '/posts/apple-native-container-cli';
    await readAs('203.0.113.1', oldPath);
    await readAs('203.0.113.2', oldPath);
    const count = await waitFor(async () => ((await readsShown(oldPath)) >= 2 ? readsShown(oldPath) : null), {
      timeoutMs: 40_000,
      intervalMs: 500,
    });
    const file = path.join(contentDir, 'apple-native-container-cli.md');
    const text = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, text.replace('+++\n', '+++\nslug = "apple-container-cli"\n'));
    const synced = await site.sync();
    assert.equal(synced.code, 0, synced.stdout + synced.stderr);
    assert.match(synced.stdout, /renamed\s+apple-native-container-cli -> apple-container-cli/);
    assert.match(await fs.readFile(file, 'utf8'), /^aliases = \["\/posts\/apple-native-container-cli"\]$/m);
    const moved = await get(`${site.base}${oldPath}`);
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.get('location'), '/posts/apple-container-cli');
    assert.equal(await readsShown('/posts/apple-container-cli'), count);
    // The file now carries its alias: the next sync has nothing to do.
    const again = await site.sync();
    assert.match(again.stdout, /Nothing to write\./);
  });
});

describe('author tools', () => {
  test('blog new writes a dated draft and prints its path', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'blog-new-'));
    try {
      const { code, stdout } = await run(BLOG, ['new', 'Hello, "World" Again', '--content', dir]);
      assert.equal(code, 0);
      const file = stdout.trim();
      assert.equal(file, path.join(dir, 'hello-world-again.md'));
      const text = await fs.readFile(file, 'utf8');
      assert.match(text, /^title = "Hello, \\"World\\" Again"$/m);
      assert.match(text, new RegExp(`^date = ${new Date().toISOString().slice(0, 10)}T`, 'm'));
      assert.match(text, /^draft = true$/m);
      const again = await run(BLOG, ['new', 'Hello, "World" Again', '--content', dir]);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /already exists/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('blog check reports broken links, duplicate slugs and aliases with file:line', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'blog-check-'));
    try {
      const post = (extra, body) =>
        `+++\ntitle = "T"\ndate = 2026-01-01\nsummary = "S."\n${extra}+++\n\n${body}\n`;
      await fs.writeFile(path.join(dir, 'a.md'), post('', 'See [x](/posts/missing).'));
      await fs.writeFile(path.join(dir, 'b.md'), post('slug = "a"\n', 'Body.'));
      await fs.writeFile(path.join(dir, 'c.md'), post('aliases = ["/posts/a"]\n', 'Body.'));
      const { code, stderr } = await run(BLOG, ['check', '--content', dir]);
      assert.equal(code, 1);
      assert.match(stderr, /a\.md:7: error: the link to \/posts\/missing points at no post/);
      assert.match(stderr, /b\.md:5: error: the slug `a` is already used by .*a\.md/);
      assert.match(stderr, /c\.md:5: error: the alias `\/posts\/a` is already the address of/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
