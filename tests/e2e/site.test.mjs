// The public site on a fresh sync of content/: the index against the seed, every post,
// HEAD, redirects, errors and security headers.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  CONTENT,
  decodeEntities,
  get,
  getIndex,
  parseIndex,
  rawRequest,
  readSeed,
  SEED,
  sleep,
  startSite,
  textOf,
  waitFor,
} from './harness.mjs';

let site;
let seed;

before(async () => {
  seed = await readSeed();
  site = await startSite();
});
after(() => site?.stop());

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** "2026-06-14T00:00:00Z" -> "Jun 14, 2026" (UTC, as the site shows dates). */
function displayDate(iso) {
  const d = new Date(iso);
  assert.ok(!Number.isNaN(d.getTime()), `not a date: ${iso}`);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
}

/** The visible text of <main>, one line per block, as the seed records it. */
function mainTextLines(html) {
  const main = /<main[^>]*>([\s\S]*)<\/main>/.exec(html);
  assert.ok(main, 'the page has a <main>');
  const blocks = main[1].replace(/<(h[1-6]|p|li|ul|ol|section|aside|div|time)\b[^>]*>/g, '\n');
  return decodeEntities(blocks.replace(/<[^>]*>/g, ''))
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}

const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

/** The count a post's read badge shows. */
async function readsOf(href) {
  const { body } = await get(`${site.base}${href}/reads.svg`);
  return Number(/>([\d,]+) reads?<\/text>/.exec(body)?.[1].replace(/,/g, ''));
}

async function seedLines() {
  return (await fs.readFile(SEED, 'utf8'))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

const SECURITY_HEADERS = (headers, where) => {
  const h = (name) => headers.get?.(name) ?? headers[name];
  const csp = h('content-security-policy');
  assert.ok(csp, `${where}: content-security-policy is set`);
  assert.match(csp, /(^|;)\s*default-src 'none'/, `${where}: CSP denies by default`);
  assert.match(csp, /frame-ancestors 'none'/, `${where}: CSP forbids framing`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `${where}: CSP allows no inline code`);
  assert.equal(h('x-content-type-options'), 'nosniff', `${where}: x-content-type-options`);
  assert.equal(h('x-frame-options'), 'DENY', `${where}: x-frame-options`);
  assert.match(h('referrer-policy') ?? '', /^(no-referrer|same-origin|strict-origin|strict-origin-when-cross-origin)$/, `${where}: referrer-policy`);
  assert.match(h('strict-transport-security') ?? '', /max-age=\d{6,}/, `${where}: strict-transport-security`);
  assert.ok(h('permissions-policy'), `${where}: permissions-policy is set`);
};

/** `## ` headings and fenced code blocks of a Markdown source, outside fences. */
function markdownShape(source) {
  const body = source.split(/^\+\+\+\s*$/m).slice(2).join('+++');
  let fence = false;
  let h2 = 0;
  let blocks = 0;
  let diagrams = 0;
  for (const line of body.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      // A Mermaid block is drawn as a figure, not a code block.
      if (!fence && /^\s*(```|~~~)\s*mermaid\b/.test(line)) diagrams++;
      else if (!fence) blocks++;
      fence = !fence;
    } else if (!fence && /^## /.test(line)) {
      h2++;
    }
  }
  return { h2, blocks, diagrams };
}

describe('index', () => {
  test('matches the seed: heading, tagline, years, posts, Popular Reads', async () => {
    const res = await get(`${site.base}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html\b/);
    const page = parseIndex(res.body);

    assert.equal(page.h1, seed.heading);
    assert.equal(page.tagline, seed.tagline);
    assert.deepEqual(page.years.map((y) => y.year), seed.years.map((y) => y.year), 'year headings');
    for (const [i, year] of seed.years.entries()) {
      assert.deepEqual(
        page.years[i].posts.map(({ title, summary, date }) => ({ title, summary, date })),
        year.posts,
        `posts of ${year.year}, in order`,
      );
    }
    assert.equal(page.posts.length, seed.posts.length);
    assert.equal(page.popularHeading, seed.popularHeading);
    assert.deepEqual(page.popular.map(({ title, date }) => ({ title, date })), seed.popular, 'Popular Reads on a fresh site');
  });

  test('the visible text of the page is the seed, line for line', async () => {
    const { body } = await get(`${site.base}/`);
    assert.deepEqual(mainTextLines(body), await seedLines());
  });

  test('links, dates and years are consistent with each other', async () => {
    const page = await getIndex(site);
    const files = (await fs.readdir(CONTENT)).filter((f) => f.endsWith('.md'));
    assert.equal(page.posts.length, files.length, 'one index entry per content file');
    const hrefs = new Set();
    for (const post of page.posts) {
      assert.match(post.href, /^\/posts\/[a-z0-9]+(-[a-z0-9]+)*$/, `canonical post link ${post.href}`);
      assert.ok(!hrefs.has(post.href), `${post.href} listed once`);
      hrefs.add(post.href);
      assert.equal(displayDate(post.datetime), post.date, `${post.href}: <time datetime> agrees with its text`);
    }
    for (const year of page.years) {
      for (const post of year.posts) {
        assert.equal(String(new Date(post.datetime).getUTCFullYear()), year.year, `${post.href} under its year`);
      }
    }
    const stamps = page.posts.map((p) => Date.parse(p.datetime));
    assert.deepEqual(stamps, [...stamps].sort((a, b) => b - a), 'newest first');
    for (const item of page.popular) {
      const listed = page.posts.find((p) => p.href === item.href);
      assert.ok(listed, `popular ${item.href} is a listed post`);
      assert.equal(item.title, listed.title);
      assert.equal(item.datetime, listed.datetime);
    }
  });

  test('the stylesheet it links is served', async () => {
    const { body } = await get(`${site.base}/`);
    const href = /<link rel="stylesheet" href="(\/style\.css\?v=[0-9a-f]+)">/.exec(body)?.[1];
    assert.ok(href, 'the index links /style.css with its fingerprint');
    const css = await get(`${site.base}${href}`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type'), /^text\/css\b/);
    assert.ok(css.body.length > 200, 'a real stylesheet');
    SECURITY_HEADERS(css.headers, 'GET /style.css');
  });
});

describe('reads', () => {
  test('HEAD does not count a read (GET does)', async () => {
    const { posts } = await getIndex(site);
    const x = posts.at(-1);
    const y = posts.at(-2);
    const reader = (i) => ({ 'user-agent': BROWSER, 'cf-connecting-ip': `192.0.2.${i}` });
    for (let i = 0; i < 5; i++) {
      const head = await get(`${site.base}${x.href}`, { method: 'HEAD', headers: reader(10 + i) });
      assert.equal(head.status, 200);
    }
    // Control: two GETs of Y from two readers must count.
    for (let i = 0; i < 2; i++) assert.equal((await get(`${site.base}${y.href}`, { headers: reader(20 + i) })).status, 200);
    await waitFor(async () => (await readsOf(y.href)) === 2, {
      timeoutMs: 40_000,
      intervalMs: 500,
      describe: async () => `Y shows ${await readsOf(y.href)} reads, expected 2`,
    });
    assert.equal(await readsOf(x.href), 0, 'five HEADs of X counted nothing');
  });
});

describe('posts', () => {
  test('every post on the index answers with its title, date, rendered body and a way home', async () => {
    const page = await getIndex(site);
    assert.ok(page.posts.length > 0);
    for (const post of page.posts) {
      const res = await get(`${site.base}${post.href}`);
      assert.equal(res.status, 200, `GET ${post.href}`);
      assert.match(res.headers.get('content-type'), /^text\/html\b/, post.href);
      const h1s = [...res.body.matchAll(/<h1[^>]*>([\s\S]*?)<\/h1>/g)];
      assert.equal(h1s.length, 1, `${post.href}: one <h1>`);
      assert.equal(textOf(h1s[0][1]), post.title, `${post.href}: <h1> is the title`);
      const title = /<title>([\s\S]*?)<\/title>/.exec(res.body);
      assert.ok(title && textOf(title[1]).startsWith(post.title), `${post.href}: <title> names the post`);
      const time = /<time datetime="([^"]*)">([\s\S]*?)<\/time>/.exec(res.body);
      assert.ok(time, `${post.href}: has a <time>`);
      assert.equal(time[1], post.datetime, `${post.href}: datetime`);
      assert.equal(textOf(time[2]), post.date, `${post.href}: date`);

      const body = /<div class="body">([\s\S]*?)<\/div>\s*<footer>/.exec(res.body);
      assert.ok(body, `${post.href}: has <div class="body">`);
      assert.ok(textOf(body[1]).length > 500, `${post.href}: body has text`);
      assert.match(body[1], /<h2[\s>]/, `${post.href}: body has headings`);
      assert.match(body[1], /<pre tabindex="0"><code[\s>]/, `${post.href}: body has code blocks`);
      const prose = body[1].replace(/<pre[^>]*>[\s\S]*?<\/pre>/g, '');
      assert.doesNotMatch(prose, /^#{1,6} |^```|^\+\+\+|^title = /m, `${post.href}: no raw Markdown or front matter left`);

      // The rendered body has as many sections and code blocks as its Markdown source.
      const slug = post.href.split('/').pop();
      const shape = markdownShape(await fs.readFile(path.join(CONTENT, `${slug}.md`), 'utf8'));
      assert.equal((body[1].match(/<h2[\s>]/g) ?? []).length, shape.h2, `${post.href}: ## headings`);
      assert.equal((body[1].match(/<pre tabindex="0"><code[\s>]/g) ?? []).length, shape.blocks, `${post.href}: code blocks`);
      assert.equal((body[1].match(/<figure class="diagram"><svg /g) ?? []).length, shape.diagrams, `${post.href}: diagrams`);

      assert.match(res.body, /<a [^>]*href="\/"/, `${post.href}: links back to the index`);
      SECURITY_HEADERS(res.headers, `GET ${post.href}`);
    }
  });
});

describe('HEAD', () => {
  test('HEAD / and HEAD on a post: 200, no body, same content-type as GET', async () => {
    const page = await getIndex(site);
    for (const p of ['/', page.posts[0].href]) {
      const [head, getRes] = [await get(`${site.base}${p}`, { method: 'HEAD' }), await get(`${site.base}${p}`)];
      assert.equal(head.status, 200, `HEAD ${p}`);
      assert.equal(head.body, '', `HEAD ${p} has no body`);
      assert.ok(getRes.body.length > 0);
      assert.equal(head.headers.get('content-type'), getRes.headers.get('content-type'), `HEAD ${p} content-type`);
      assert.equal(head.headers.get('cache-control'), getRes.headers.get('cache-control'), `HEAD ${p} cache-control`);
      SECURITY_HEADERS(head.headers, `HEAD ${p}`);
    }
    const missing = await get(`${site.base}/posts/does-not-exist`, { method: 'HEAD' });
    assert.equal(missing.status, 404, 'HEAD on a missing post');
    assert.equal(missing.body, '');
  });

});

describe('errors and redirects', () => {
  const NOT_FOUND = ['/nope', '/posts/does-not-exist', '/posts/a%2Fb', '/posts/%ff', '/posts/a/b', '/POSTS/x', '/style.css/x'];

  for (const p of NOT_FOUND) {
    test(`GET ${p} is 404 with the not-found page`, async () => {
      const res = await rawRequest(site.base, p);
      assert.equal(res.status, 404);
      assert.match(res.headers['content-type'], /^text\/html\b/);
      assert.match(res.body, /<h1>Page not found<\/h1>/);
      assert.match(res.body, /href="\/"/, 'the 404 page links home');
      assert.equal(res.headers['cache-control'], 'no-store', '404s are not cached');
    });
  }

  // `%2e%2e` is a dot-dot segment to WHATWG URL parsing: the runtime (workerd under wrangler
  // dev) hands the worker `request.url` already normalised, `/posts/%2e%2e` -> `/`, so the
  // route table's NotFound for it cannot apply at the edge. What must hold: it resolves to
  // one of the site's own pages (the index), never a post, an error or anything outside.
  test('GET /posts/%2e%2e (sent as is) resolves to the index, nothing outside the site', async () => {
    for (const p of ['/posts/%2e%2e', '/posts/%2E%2E', '/posts/..']) {
      const res = await rawRequest(site.base, p);
      assert.equal(res.status, 200, p);
      assert.match(res.body, /<h1 id="writing">Writing<\/h1>/, `${p} is the index`);
    }
    const up = await rawRequest(site.base, '/posts/x/%2e%2e');
    assert.equal(up.status, 301, '/posts/x/%2e%2e is /posts/ after normalisation');
    assert.equal(up.headers.location, '/');
  });

  test('POST / and other methods are 405 with Allow: GET, HEAD', async () => {
    const { posts } = await getIndex(site);
    for (const [method, p] of [['POST', '/'], ['PUT', posts[0].href], ['DELETE', posts[0].href], ['OPTIONS', '/']]) {
      const res = await get(`${site.base}${p}`, { method });
      assert.equal(res.status, 405, `${method} ${p}`);
      const allow = res.headers.get('allow')?.split(',').map((m) => m.trim()).sort();
      assert.deepEqual(allow, ['GET', 'HEAD'], `${method} ${p}: Allow`);
      SECURITY_HEADERS(res.headers, `${method} ${p}`);
    }
  });

  test('/posts/<slug>/ answers 301 to /posts/<slug>', async () => {
    const { posts } = await getIndex(site);
    for (const post of posts.slice(0, 3)) {
      const res = await get(`${site.base}${post.href}/`);
      assert.equal(res.status, 301, `${post.href}/`);
      const target = new URL(res.headers.get('location'), `${site.base}${post.href}/`);
      assert.equal(target.origin, site.base, 'same site');
      assert.equal(target.pathname, post.href);
      assert.equal(target.search, '');
      const followed = await get(target.href);
      assert.equal(followed.status, 200, 'the redirect target exists');
    }
  });

  test('security headers are present on the 404 page', async () => {
    const res = await get(`${site.base}/nope`);
    assert.equal(res.status, 404);
    SECURITY_HEADERS(res.headers, 'GET /nope');
  });
});
