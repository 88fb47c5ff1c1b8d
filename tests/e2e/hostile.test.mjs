// Hostile requests and hostile content. Odd paths, odd methods, huge headers: never a 5xx,
// and the server keeps answering. Titles, summaries and tags full of markup come out as
// text everywhere: pages, the three feeds (read with a strict XML parser) and JSON-LD. Raw
// HTML in a body follows the site's `raw_html` setting. Every kind of response carries the
// security headers.
// One site: the project's posts plus tests/fixtures/hostile (a hostile post, a Unicode slug).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CONTENT, ROOT, decodeEntities, get, parseIndex, run, textOf } from './harness.mjs';
import { BROWSER, assertSecurityHeaders, removeTemp, request, startSite, tempDir } from './support.mjs';

const FIXTURES = path.join(ROOT, 'tests/fixtures/hostile');
const POST = '/posts/building-a-fintech-platform-with-go-microservices';
const HOSTILE = '/posts/hostile-markup';
const CAFE = '/posts/caf%C3%A9-notes';
// The hostile post's fields exactly as the front matter says them (TOML-decoded).
const TITLE = `<img src=x onerror=alert(1)> </script><script>alert(1)</script> &amp; "double" 'single'`;
const SUMMARY = `<script>alert('summary')</script> & <b>bold</b> "quoted" 'apos' &lt;already escaped&gt;`;
const TAGS = ['<b>bold-tag</b>', '</script><script>alert(2)</script>', `a&b "q" 'x'`];
/** What must never appear raw in a page's markup outside a body that allows raw HTML. */
const INJECTED = [/<img src=x/i, /<script>alert/i, /<\/script><script>/i, /<b>bold/i];

let site;
let contentDir;

before(async () => {
  contentDir = await tempDir('blog-e2e-hostile-');
  await fs.cp(CONTENT, contentDir, { recursive: true });
  for (const f of await fs.readdir(FIXTURES)) await fs.copyFile(path.join(FIXTURES, f), path.join(contentDir, f));
  site = await startSite({ contentDir });
});

after(async () => {
  await site?.stop();
  await removeTemp(contentDir);
});

const raw = (p, options) => request(site.base, p, options);

/** Asserts a response is not a server error, and says what it was. */
function no5xx(res, what) {
  assert.ok(res.status < 500, `${what} answered ${res.status}\n${res.body?.slice(0, 500)}\n${site.log(2000)}`);
  return res;
}

describe('hostile paths', () => {
  // Each path with the status it must get. Paths that name no page are 404; dot segments
  // are resolved by the runtime's URL parser before the worker sees them (WHATWG URL
  // treats %2e as a dot), so they land on a real page and can never climb above the root.
  const CASES = [
    ['/%2e%2e', 200, 'the root: `..` above / is /'],
    ['/%2e%2e/%2e%2e/etc/passwd', 404, 'resolved to /etc/passwd: no such page'],
    ['/posts/%2e%2e', 200, 'resolved to /'],
    ['/posts/%2e%2e%2fetc', 404, '%2f is not a separator, so `..` stays inside one segment'],
    ['/posts/..%2f..%2fetc', 404, ''],
    ['/posts/..%2F..%2Fetc%2Fpasswd', 404, ''],
    ['/posts/a%2Fb', 404, ''],
    ['/posts%2Fhostile-markup', 404, ''],
    ['//posts//x', 404, ''],
    ['//posts/hostile-markup', 404, ''],
    ['/posts//hostile-markup', 404, ''],
    ['/posts/%ff%fe', 404, 'not UTF-8'],
    ['/posts/%c3', 404, 'a truncated UTF-8 sequence'],
    ['/posts/%zz', 404, 'a malformed escape'],
    ['/posts/%', 404, ''],
    ['/posts/%00', 404, 'NUL'],
    ['/posts/a%0d%0aSet-Cookie:%20x=1', 404, 'header injection'],
    ['/posts/%3Cscript%3E', 404, ''],
    ['/tags/%2e%2e', 200, 'resolved to /'],
    ['/tags/go/%2e%2e', 301, 'resolved to /tags/, which redirects to /tags'],
    ['/posts/x/%2e%2e', 301, 'resolved to /posts/, which redirects to /'],
    ['/tags/%ff', 404, ''],
    ['/tags/RUST', 404, 'tag segments are lower-case'],
    ['/POSTS/hostile-markup', 404, ''],
    [`/posts/${'a'.repeat(16 * 1024)}`, 404, 'a 16 KB path'],
    [`/${'%2e%2e/'.repeat(2000)}`, 200, 'thousands of dot segments resolve to /'],
    [`/posts/${'%ff'.repeat(4000)}`, 404, ''],
    ['/feed.xml/', 404, ''],
    ['/style.css/..', 200, 'resolved to /'],
    ['/sitemap.xml%00', 404, ''],
    ['/posts/hostile-markup%20', 404, ''],
    ['/posts/hostile-markup/reads.svg/', 404, ''],
    ['/posts/../../../../etc/passwd', 404, 'resolved to /etc/passwd'],
  ];
  for (const [p, want, why] of CASES) {
    test(`${p.length > 60 ? `${p.slice(0, 40)}… (${p.length} bytes)` : p} -> ${want}${why ? ` (${why})` : ''}`, async () => {
      const res = no5xx(await raw(p), p);
      assert.equal(res.status, want, `${p}: ${res.status}\n${res.body.slice(0, 300)}`);
      if (want === 404) assert.match(res.body, /Page not found/);
      if (want === 301) assert.match(res.headers.location, /^\/[a-z]*$/);
      assertSecurityHeaders(res.headers, p);
    });
  }

  test('a Unicode slug: its encoded address answers, near misses are 404', async () => {
    const page = await raw(CAFE);
    assert.equal(page.status, 200);
    assert.equal(textOf(/<h1>([\s\S]*?)<\/h1>/.exec(page.body)[1]), 'Café Notes');
    assert.equal((await raw(`${CAFE}/reads.svg`)).status, 200);
    const slash = await raw(`${CAFE}/`);
    assert.equal(slash.status, 301);
    assert.equal(slash.headers.location, CAFE);
    // The index links it in a form browsers encode to the same address.
    const link = /<a href="([^"]*caf[^"]*)">Café Notes<\/a>/.exec((await get(`${site.base}/`)).body)?.[1];
    assert.ok(link, 'the index does not link the post');
    assert.equal(new URL(decodeEntities(link), site.base).pathname, CAFE);
    for (const wrong of [
      '/posts/cafe-notes', // no accent
      '/posts/cafe%CC%81-notes', // the same text, decomposed (NFD)
      '/posts/caf%E9-notes', // Latin-1, not UTF-8
      '/posts/CAF%C3%89-NOTES', // upper case
      '/posts/caf%C3%A9-note',
      '/posts/caf%C3%A9-notes%C3',
    ]) {
      const res = no5xx(await raw(wrong), wrong);
      assert.equal(res.status, 404, wrong);
    }
  });

  test('query strings are ignored on every page type', async () => {
    for (const p of [
      '/?utm_source=x&utm_medium=y',
      `${POST}?a=b`,
      `${HOSTILE}?<script>=1`,
      `${CAFE}?ref=%ff`,
      '/tags?x=1',
      '/tags/go?x=1',
      '/tags/go/feed.xml?x=1',
      '/feed.xml?x=1',
      '/rss.xml?x=1',
      '/feed.json?x=1',
      '/sitemap.xml?x=1',
      '/robots.txt?x=1',
      '/style.css?v=2',
      '/favicon.svg?v=2',
      '/site.webmanifest?v=2',
      `${POST}/reads.svg?t=1`,
    ]) {
      const withQuery = no5xx(await raw(p), p);
      const without = await raw(p.split('?')[0]);
      assert.equal(withQuery.status, 200, p);
      assert.equal(withQuery.headers['content-type'], without.headers['content-type'], p);
    }
    assert.equal((await raw('/no-such-page?x=1')).status, 404);
  });

  test('trailing slashes answer 301 to the canonical address, which answers 200', async () => {
    for (const [p, location] of [
      [`${POST}/`, POST],
      [`${POST}/?a=b`, POST],
      ['/tags/', '/tags'],
      ['/tags/go/', '/tags/go'],
      ['/posts/', '/'],
      ['/posts', '/'],
      ['/index.html', '/'],
      [`${CAFE}/`, CAFE],
    ]) {
      const res = no5xx(await raw(p), p);
      assert.equal(res.status, 301, p);
      assert.equal(res.headers.location, location, p);
      assertSecurityHeaders(res.headers, `301 ${p}`);
      assert.equal((await raw(location)).status, 200, location);
    }
  });

  test('methods other than GET and HEAD answer 405 with Allow: GET, HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      for (const p of ['/', POST, '/feed.xml', '/style.css', '/no-such-page', `${POST}/reads.svg`]) {
        const res = no5xx(await raw(p, { method, body: method === 'OPTIONS' ? null : 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), `${method} ${p}`);
        assert.equal(res.status, 405, `${method} ${p}`);
        assert.equal(res.headers.allow, 'GET, HEAD', `${method} ${p}`);
        assertSecurityHeaders(res.headers, `${method} ${p}`);
      }
    }
    for (const method of ['TRACE', 'PROPFIND', 'MKCOL']) {
      const res = no5xx(await raw('/', { method }), method);
      assert.equal(res.status, 405, method);
    }
    // A method the runtime's HTTP parser does not know is refused before the worker runs,
    // with the status HTTP prescribes for that (RFC 9110 §15.6.2); the site stays up.
    const unknown = await raw('/', { method: 'FOO' });
    assert.ok([405, 501].includes(unknown.status), `FOO: ${unknown.status}`);
    assert.equal((await raw('/')).status, 200);
  });

  test('huge headers: a 4xx at most, never a 5xx, and the server keeps answering', async () => {
    const attempts = [
      ['a 32 KB cookie', { cookie: `session=${'x'.repeat(32 * 1024)}` }],
      ['a 64 KB user agent', { 'user-agent': `${BROWSER} ${'y'.repeat(64 * 1024)}` }],
      ['300 headers', Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`x-filler-${i}`, 'z'.repeat(100)]))],
      ['a 16 KB referer and accept-language', { referer: `http://x/${'r'.repeat(16384)}`, 'accept-language': 'en;q=0.9,'.repeat(1500) }],
    ];
    for (const [what, headers] of attempts) {
      let res;
      try {
        res = await raw(POST, { headers });
      } catch (e) {
        // The runtime may close the connection on headers it will not read; that is fine
        // as long as it stays up (checked below).
        res = { status: `closed (${e.code ?? e.message})`, body: '' };
      }
      if (typeof res.status === 'number') {
        assert.ok(res.status < 500, `${what}: ${res.status}`);
        if (res.status === 200) assert.match(res.body, /<h1>/);
      }
      console.log(`  ${what}: ${res.status}`);
      const after = await get(`${site.base}/`);
      assert.equal(after.status, 200, `after ${what}`);
    }
  });

  test('HEAD answers wherever GET does, with the same status and headers and no body', async () => {
    for (const p of ['/', POST, HOSTILE, CAFE, '/tags', '/tags/go', '/tags/go/feed.xml', '/feed.xml', '/rss.xml', '/feed.json', '/sitemap.xml', '/sitemap-1.xml', '/archive', '/2026/', '/2026', '/robots.txt', '/style.css', '/favicon.svg', '/site.webmanifest', `${POST}/reads.svg`, '/no-such-page', `${POST}/`, '/favicon.ico']) {
      const g = await raw(p);
      const h = no5xx(await raw(p, { method: 'HEAD' }), `HEAD ${p}`);
      assert.equal(h.status, g.status, `HEAD ${p}`);
      assert.equal(h.body, '', `HEAD ${p} has a body`);
      for (const name of ['content-type', 'cache-control', 'etag', 'location', 'content-security-policy']) {
        assert.equal(h.headers[name], g.headers[name], `HEAD ${p}: ${name}`);
      }
    }
  });

  test('after the barrage the site still answers', async () => {
    const res = await get(`${site.base}/`);
    assert.equal(res.status, 200);
    assert.ok(parseIndex(res.body).posts.length >= 10);
    assert.doesNotMatch(site.output, /\b(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS|TRACE)\s+\S+\s+5\d\d\b|Uncaught|panicked/, 'a server error or panic in the log');
  });
});

describe('hostile titles, summaries and tags are text everywhere', () => {
  const noInjection = (html, where) => {
    for (const re of INJECTED) assert.doesNotMatch(html, re, `${where}: raw markup from the metadata`);
  };

  test('the index page', async () => {
    const { body } = await get(`${site.base}/`);
    const index = parseIndex(body);
    const entry = index.posts.find((p) => p.href === HOSTILE);
    assert.ok(entry, 'the hostile post is not listed');
    assert.equal(entry.title, TITLE);
    assert.equal(entry.summary, SUMMARY);
    assert.equal(index.popular.find((p) => p.href === HOSTILE)?.title, TITLE);
    noInjection(body, 'index');
  });

  test('the post page: title, headings, meta tags, tag links and JSON-LD', async () => {
    const { status, body } = await get(`${site.base}${HOSTILE}`);
    assert.equal(status, 200);
    const head = body.slice(0, body.indexOf('<body>'));
    const header = /<header>[\s\S]*?<\/header>/.exec(body.slice(body.indexOf('<article')))[0];
    noInjection(head.replace(/<script type="application\/ld\+json">[\s\S]*?<\/script>/, ''), 'post <head>');
    noInjection(header, 'post header');
    assert.equal(textOf(/<title>([\s\S]*?)<\/title>/.exec(head)[1]), `${TITLE} · Writing`);
    assert.equal(textOf(/<h1>([\s\S]*?)<\/h1>/.exec(header)[1]), TITLE);
    const meta = (attr, name) => decodeEntities(new RegExp(`<meta ${attr}="${name}" content="([^"]*)">`).exec(head)[1]);
    assert.equal(meta('name', 'description'), SUMMARY);
    assert.equal(meta('property', 'og:description'), SUMMARY);
    assert.equal(meta('property', 'og:title'), `${TITLE} · Writing`);
    assert.equal(meta('name', 'twitter:title'), `${TITLE} · Writing`);
    const tagLinks = [...header.matchAll(/<li><a href="(\/tags\/[^"]*)">([\s\S]*?)<\/a><\/li>/g)];
    assert.deepEqual(tagLinks.map((m) => textOf(m[2])), TAGS);
    for (const [, href] of tagLinks) assert.match(href, /^\/tags\/[\p{L}\p{N}-]+$/u);
    // Exactly one script element in the head, and its text cannot end it early.
    const scripts = [...head.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)];
    assert.equal(scripts.length, 1, 'more than the JSON-LD script in <head>');
    assert.doesNotMatch(scripts[0][1], /<\/script|<!--/i);
    const ld = JSON.parse(scripts[0][1]);
    assert.equal(ld.headline, TITLE);
    assert.equal(ld.description, SUMMARY);
    assert.equal(ld.keywords, TAGS.join(', '));
  });

  test('a neighbour post links it by its escaped title', async () => {
    // The hostile post is the newest; the next-newest links it as "Next".
    const index = parseIndex((await get(`${site.base}/`)).body);
    const i = index.posts.findIndex((p) => p.href === HOSTILE);
    const older = index.posts[i + 1].href;
    const { body } = await get(`${site.base}${older}`);
    const next = /<a class="next" href="([^"]*)" rel="next"><span>Next<\/span> ([\s\S]*?)<\/a>/.exec(body);
    assert.equal(next?.[1], HOSTILE);
    assert.equal(textOf(next[2]), TITLE);
    noInjection(/<nav class="neighbours"[\s\S]*?<\/nav>/.exec(body)[0], 'neighbours');
  });

  test('the tags page and each hostile tag page', async () => {
    const tags = await get(`${site.base}/tags`);
    noInjection(tags.body, '/tags');
    const names = [...tags.body.matchAll(/<a href="(\/tags\/[^"]*)">([\s\S]*?)<\/a> <span class="count">/g)];
    for (const tag of TAGS) {
      const found = names.find((m) => textOf(m[2]) === tag);
      assert.ok(found, `/tags does not list ${tag}`);
      const page = await get(`${site.base}${found[1]}`);
      assert.equal(page.status, 200, found[1]);
      assert.equal(textOf(/<h1>([\s\S]*?)<\/h1>/.exec(page.body)[1]), tag);
      assert.equal(textOf(/<title>([\s\S]*?)<\/title>/.exec(page.body)[1]), `${tag} · Writing`);
      noInjection(page.body, found[1]);
      // Its feed is well-formed and titled with the tag as text.
      const feed = await feedFields(`${found[1]}/feed.xml`);
      assert.equal(feed.title, `Writing · ${tag}`);
      assert.deepEqual(feed.entries.map((e) => e.title), [TITLE]);
    }
  });

  /** A feed's fields as a strict XML parser reads them. */
  async function feedFields(p) {
    const res = await get(`${site.base}${p}`);
    assert.equal(res.status, 200, p);
    const dir = await tempDir('blog-e2e-feed-');
    const file = path.join(dir, 'feed.xml');
    await fs.writeFile(file, res.body);
    const parsed = await run('sh', ['-c', `python3 tests/tools/feed-fields.py < '${file}'`]);
    await removeTemp(dir);
    assert.equal(parsed.code, 0, `${p} is not well-formed XML: ${parsed.stderr}`);
    return JSON.parse(parsed.stdout);
  }

  test('Atom: title, summary and categories decode to the exact text', async () => {
    const feed = await feedFields('/feed.xml');
    const entry = feed.entries.find((e) => e.link.endsWith(HOSTILE));
    assert.ok(entry);
    assert.ok(entry.title_type === null || entry.title_type === 'text', `title type ${entry.title_type}`);
    assert.equal(entry.title, TITLE);
    assert.equal(entry.summary, SUMMARY);
    assert.deepEqual(entry.categories, TAGS);
  });

  test('RSS: title and categories are the text; the description is the summary escaped as HTML', async () => {
    const feed = await feedFields('/rss.xml');
    const entry = feed.entries.find((e) => e.link.endsWith(HOSTILE));
    assert.ok(entry);
    assert.equal(entry.title, TITLE);
    assert.deepEqual(entry.categories, TAGS);
    // <description> holds HTML: decoding it once more gives the plain summary back.
    assert.doesNotMatch(entry.summary, /<script|<b>/);
    assert.equal(decodeEntities(entry.summary), SUMMARY);
  });

  test('JSON Feed: the fields are the text', async () => {
    const { status, body } = await get(`${site.base}/feed.json`);
    assert.equal(status, 200);
    const item = JSON.parse(body).items.find((i) => i.url.endsWith(HOSTILE));
    assert.equal(item.title, TITLE);
    assert.equal(item.summary, SUMMARY);
    assert.deepEqual(item.tags, TAGS);
  });
});

describe('raw HTML in a body follows the raw_html setting', () => {
  // Smart punctuation curls the quotes between the script tags: they are text to Markdown.
  const RAW = [/<div class="raw-block" data-raw="yes">/, /<span class="raw-inline">/, /<script>alert\(.body.\)<\/script>/];

  async function bodies() {
    const page = (await get(`${site.base}${HOSTILE}`)).body;
    const body = /<div class="body">([\s\S]*?)<\/div>\s*<footer>/.exec(page)[1];
    const json = JSON.parse((await get(`${site.base}/feed.json`)).body).items.find((i) => i.url.endsWith(HOSTILE)).content_html;
    const atom = (await get(`${site.base}/feed.xml`)).body;
    return { body, json, atom };
  }

  test('kept by default (site.toml says raw_html = true)', async () => {
    const { body, json } = await bodies();
    for (const re of RAW) {
      assert.match(body, re, 'page');
      assert.match(json, re, 'JSON Feed');
    }
  });

  test('stripped with raw_html = false, from the page and the feeds; the text stays', async () => {
    const dir = await tempDir('blog-e2e-settings-');
    const settings = path.join(dir, 'site.toml');
    const text = await fs.readFile(path.join(ROOT, 'site.toml'), 'utf8');
    assert.match(text, /^raw_html = true$/m);
    await fs.writeFile(settings, text.replace(/^raw_html = true$/m, 'raw_html = false'));
    try {
      const synced = await site.sync(['--settings', settings]);
      assert.equal(synced.code, 0, synced.stderr);
      const { body, json, atom } = await bodies();
      for (const re of RAW) {
        assert.doesNotMatch(body, re, 'page');
        assert.doesNotMatch(json, re, 'JSON Feed');
      }
      assert.doesNotMatch(decodeEntities(atom), /raw-block|raw-inline|<script>alert\(.body/, 'Atom');
      assert.match(body, /raw span/);
      assert.match(body, /The body of a post whose metadata tries everything/);
    } finally {
      const back = await site.sync();
      assert.equal(back.code, 0, back.stderr);
      await removeTemp(dir);
    }
    const { body } = await bodies();
    assert.match(body, RAW[0], 'raw HTML is back after syncing the default settings');
  });
});

describe('security headers', () => {
  test('on every kind of response', async () => {
    const etag = (await get(`${site.base}${POST}`)).headers.get('etag');
    const cases = [
      ['index page', '/'],
      ['post page', POST],
      ['tags page', '/tags'],
      ['tag page', '/tags/go'],
      ['404 page', '/no-such-page'],
      ['404 post', '/posts/no-such-post'],
      ['405', '/', { method: 'POST' }],
      ['301 slash', `${POST}/`],
      ['301 alias', '/favicon.ico'],
      ['304', POST, { headers: { 'if-none-match': etag } }],
      ['Atom feed', '/feed.xml'],
      ['RSS feed', '/rss.xml'],
      ['JSON feed', '/feed.json'],
      ['tag feed', '/tags/go/feed.xml'],
      ['stylesheet', '/style.css'],
      ['favicon', '/favicon.svg'],
      ['manifest', '/site.webmanifest'],
      ['read badge', `${POST}/reads.svg`],
      ['robots.txt', '/robots.txt'],
      ['sitemap', '/sitemap.xml'],
      ['HEAD', POST, { method: 'HEAD' }],
    ];
    const seen = new Set();
    for (const [what, p, options] of cases) {
      const res = await raw(p, options);
      seen.add(res.status);
      assertSecurityHeaders(res.headers, `${what} (${res.status})`);
    }
    assert.deepEqual([...seen].sort(), [200, 301, 304, 404, 405]);
  });
});
