// The technical writer's toolbox on the real Worker: callouts, in pages (in a real browser,
// light and dark, at 320px, with axe) and in the feeds a real parser reads; honest dates,
// from the front matter and from the lock `blog sync` keeps beside the content, on pages,
// in feeds, JSON-LD and the sitemap. One site on a copy of the project's posts, which use
// each of these for real; the dates' edits happen on that copy.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { get, run, startSite, textOf } from './harness.mjs';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const BUDGET = 14 * 1024;
const PHASE_2 = '/posts/phase-2-rebuilt-the-build-pipeline';
const NIXPACKS = '/posts/how-nixpacks-buildctl-and-buildkit-fit-together';

let site;
let browser;

before(async () => {
  site = await startSite({ copyContent: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

after(async () => {
  await browser?.close();
  await site?.stop();
});

const gz = (text) => gzipSync(Buffer.from(text)).length;

/** A page in the browser, with every console error and page error it raised. */
async function open(p, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console.${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  const res = await page.goto(site.base + p);
  assert.equal(res.status(), 200, p);
  return { context, page, problems };
}

describe('callouts', () => {
  test('an alert in a post is a labelled note with its word and an icon, the marker gone', async () => {
    const { status, body } = await get(site.base + PHASE_2);
    assert.equal(status, 200);
    const aside = /<aside class="callout warning" role="note" aria-label="Warning">([\s\S]*?)<\/aside>/.exec(body);
    assert.ok(aside, 'the Phase 2 post warns its reader in a callout');
    assert.match(aside[1], /<svg class="icon"[^>]*aria-hidden="true"/);
    assert.match(aside[1], /<strong>Warning<\/strong>/);
    assert.match(textOf(aside[1]), /docker\.sock/);
    assert.doesNotMatch(body, /\[!WARNING\]/);
    const nixpacks = await get(site.base + NIXPACKS);
    assert.match(nixpacks.body, /<aside class="callout note" role="note" aria-label="Note">/);
    // Its footnote reference still links to the footnote.
    assert.match(nixpacks.body, /<aside class="callout note"[\s\S]*?href="#1"[\s\S]*?<\/aside>/);
  });

  test('every feed carries the callout, and a real feed parser reads it as text that says Warning', async () => {
    const urls = ['/feed.xml', '/rss.xml', '/feed.json'].map((p) => site.base + p);
    const checked = await run('python3', ['tests/feedcheck.py', ...urls]);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /3 of 3 feeds ok/);
    const script = [
      'import feedparser, sys, re',
      'for url in sys.argv[1:]:',
      '    feed = feedparser.parse(url)',
      '    entry = next(e for e in feed.entries if e.link.endswith("phase-2-rebuilt-the-build-pipeline"))',
      '    html = entry.content[0].value',
      '    text = re.sub(r"<[^>]+>", "", html)',
      '    print(url, "Warning" in text and "docker.sock" in text and "[!WARNING]" not in text)',
    ].join('\n');
    const parsed = await run('python3', ['-c', script, urls[0], urls[1]]);
    assert.equal(parsed.code, 0, parsed.stderr);
    assert.deepEqual(parsed.stdout.trim().split('\n').map((l) => l.split(' ')[1]), ['True', 'True'], parsed.stdout);
    const json = JSON.parse((await get(urls[2])).body);
    const item = json.items.find((i) => i.url.endsWith('phase-2-rebuilt-the-build-pipeline'));
    assert.match(item.content_html, /<aside class="callout warning" role="note" aria-label="Warning">/);
  });

  for (const scheme of ['light', 'dark']) {
    test(`a callout and the related posts pass axe, raises no console error and follows the ${scheme} scheme`, async () => {
      const { context, page, problems } = await open(PHASE_2, { colorScheme: scheme });
      try {
        // The callouts and related posts themselves: the whole page is a11y.test.mjs's.
        const { violations } = await new AxeBuilder({ page }).include('aside.callout').include('nav.related').analyze();
        const report = violations.map((v) => `${v.id}: ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`);
        assert.deepEqual(report, []);
        assert.deepEqual(problems, []);
        const look = await page.evaluate(() => {
          const title = document.querySelector('.callout.warning .callout-title');
          const aside = title.closest('aside');
          return {
            title: getComputedStyle(title).color,
            border: getComputedStyle(aside).borderLeftColor,
            icon: title.querySelector('svg').getBoundingClientRect().width,
          };
        });
        const want = scheme === 'light' ? 'rgb(128, 85, 0)' : 'rgb(210, 153, 34)';
        assert.deepEqual(look, { title: want, border: want, icon: 16 });
      } finally {
        await context.close();
      }
    });
  }

  test('at 320px wide a post with callouts does not overflow, and stays within 14 KB gzip', async () => {
    const { context, page } = await open(PHASE_2, { viewport: { width: 320, height: 640 }, isMobile: true });
    try {
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 320, `scrollWidth ${width}`);
    } finally {
      await context.close();
    }
    const { body } = await get(site.base + PHASE_2);
    const css = await get(`${site.base}${/href="(\/style\.css\?v=[^"]+)"/.exec(body)[1]}`);
    const total = gz(body) + gz(css.body);
    console.log(`callouts: ${PHASE_2} ${gz(body)} B + stylesheet ${gz(css.body)} B gzip = ${total} B`);
    assert.ok(total <= BUDGET, `${total} B`);
  });
});

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** "Dec 2, 2026": a date as the site shows it (its time zone is UTC). */
const shown = (d) => `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
const MINI = 'mini-vercel-clone-in-rust-in-one-day';

/** The "Updated …" a post page shows beside its date: [datetime, text], or null. */
async function updatedOn(p) {
  const { status, body } = await get(site.base + p);
  assert.equal(status, 200, p);
  const m = /<p class="meta">[\s\S]*?· Updated <time datetime="([^"]+)">([^<]+)<\/time>/.exec(body);
  return m ? [m[1], m[2]] : null;
}

describe('honest dates', () => {
  const lockFile = () => `${site.contentDir}.lock`;
  const postFile = () => path.join(site.contentDir, `${MINI}.md`);

  test('updated in the front matter shows beside the date, in feeds, JSON-LD and the sitemap', async () => {
    assert.deepEqual(await updatedOn(NIXPACKS), ['2026-06-20T00:00:00Z', 'Jun 20, 2026']);
    assert.equal(await updatedOn(PHASE_2), null, 'a post never edited says nothing');
    const { body } = await get(site.base + NIXPACKS);
    assert.match(body, /"dateModified":"2026-06-20T00:00:00Z","datePublished":"2026-05-24T18:00:00Z"/);
    const atom = (await get(`${site.base}/feed.xml`)).body;
    const entry = atom.split('<entry>').find((e) => e.includes(NIXPACKS));
    assert.match(entry, /<published>2026-05-24T18:00:00Z<\/published>\s*<updated>2026-06-20T00:00:00Z<\/updated>/);
    const json = JSON.parse((await get(`${site.base}/feed.json`)).body);
    const item = json.items.find((i) => i.url.endsWith(NIXPACKS));
    assert.equal(item.date_modified, '2026-06-20T00:00:00Z');
    assert.ok(json.items.filter((i) => i.date_modified).length === 1, 'only the updated post has date_modified');
    const sitemap = (await get(`${site.base}/sitemap-1.xml`)).body;
    assert.match(sitemap, new RegExp(`${NIXPACKS}</loc>\\s*<lastmod>2026-06-20T00:00:00Z</lastmod>`));
    assert.match(sitemap, new RegExp(`${PHASE_2}</loc>\\s*<lastmod>2026-05-24T09:00:00Z</lastmod>`));
    const parsed = await run('python3', [
      '-c',
      'import feedparser,sys\nf=feedparser.parse(sys.argv[1])\ne=[e for e in f.entries if e.link.endswith(sys.argv[2])][0]\nprint(f.bozo, e.published, e.updated)',
      `${site.base}/feed.xml`,
      NIXPACKS,
    ]);
    assert.equal(parsed.stdout.trim(), 'False 2026-05-24T18:00:00Z 2026-06-20T00:00:00Z', parsed.stderr);
  });

  test('an edit of the text is dated by the sync that publishes it, and the date never moves after', async () => {
    const firstLock = await fs.readFile(lockFile(), 'utf8');
    assert.match(firstLock, new RegExp(`"${MINI}.md" = \\{ text = "[0-9a-f]+" \\}`), 'first seen: no date of change');
    const original = await fs.readFile(postFile(), 'utf8');
    await fs.writeFile(postFile(), original.replace('This is the whole story, mistakes included.', 'This is the whole story, every mistake included.'));
    const before = new Date();
    const edited = await site.sync();
    assert.equal(edited.code, 0, edited.stdout + edited.stderr);
    assert.match(edited.stdout, /dates +written to .*\.lock \(commit it\)/);
    const lock = await fs.readFile(lockFile(), 'utf8');
    const changed = new RegExp(`"${MINI}.md" = \\{ text = "[0-9a-f]+", changed = "([^"]+)" \\}`).exec(lock);
    assert.ok(changed, lock);
    const at = new Date(changed[1]);
    assert.ok(at >= new Date(Math.floor(before / 1000) * 1000) && at <= new Date(), `${changed[1]} is the sync's time`);
    assert.deepEqual(await updatedOn(`/posts/${MINI}`), [changed[1], shown(at)]);
    const entry = (await get(`${site.base}/feed.xml`)).body.split('<entry>').find((e) => e.includes(`/posts/${MINI}<`));
    assert.match(entry, new RegExp(`<updated>${changed[1]}</updated>`));

    // A sync with nothing new moves nothing: same lock, same page.
    const again = await site.sync();
    assert.match(again.stdout, /Nothing to write/);
    assert.equal(await fs.readFile(lockFile(), 'utf8'), lock);

    // Whitespace and front matter order are no change of text; a minor edit keeps the date.
    const text = await fs.readFile(postFile(), 'utf8');
    const reflowed = text
      .replace('every mistake included.', 'every mistake\nincluded.')
      .replace(/^(summary = .*)\n(tags = .*)$/m, '$2\n$1');
    await fs.writeFile(postFile(), reflowed.replace('title = ', 'minor = false\ntitle = '));
    await new Promise((r) => setTimeout(r, 1100));
    const reflow = await site.sync();
    assert.equal(reflow.code, 0, reflow.stdout + reflow.stderr);
    assert.doesNotMatch(reflow.stdout, /dates +written/);
    await fs.writeFile(postFile(), reflowed.replace('title = ', 'minor = true\ntitle = ').replace('By midnight I had 57 commits', 'By midnight I had 57 small commits'));
    const minor = await site.sync();
    assert.equal(minor.code, 0, minor.stdout + minor.stderr);
    assert.match(minor.stdout, /^ {2}updated +mini-vercel-clone-in-rust-in-one-day$/m, 'the text changed');
    const minorLock = await fs.readFile(lockFile(), 'utf8');
    assert.notEqual(minorLock, lock, 'the lock knows the new text');
    assert.ok(minorLock.includes(`changed = "${changed[1]}"`), minorLock);
    assert.deepEqual(await updatedOn(`/posts/${MINI}`), [changed[1], shown(at)], 'the date stays');
    const feeds = await run('python3', ['tests/feedcheck.py', ...['/feed.xml', '/rss.xml', '/feed.json'].map((p) => site.base + p)]);
    assert.equal(feeds.code, 0, feeds.stdout + feeds.stderr);
  });

  test('an update before the publication date is a blog check error at its line', async () => {
    const text = await fs.readFile(postFile(), 'utf8');
    const bad = text.replace('title = ', 'updated = 2020-01-01\ntitle = ');
    await fs.writeFile(postFile(), bad);
    try {
      const checked = await site.check();
      assert.equal(checked.code, 1, checked.stdout + checked.stderr);
      const line = bad.split('\n').indexOf('updated = 2020-01-01') + 1;
      assert.match(checked.stderr, new RegExp(`${MINI}\\.md:${line}: error: \`updated\` is before \`date\``));
    } finally {
      await fs.writeFile(postFile(), text);
    }
  });
});

describe('related posts', () => {
  test('every post ends with up to three others, never itself nor a neighbour it links, each answering', async () => {
    const posts = [...(await get(`${site.base}/archive`)).body.matchAll(/href="(\/\d{4}\/)"/g)].map((m) => m[1]);
    assert.ok(posts.length > 0);
    const slugs = [];
    for (const year of new Set(posts)) {
      const { body } = await get(site.base + year);
      slugs.push(...[...body.matchAll(/<a href="\/posts\/([^"]+)"/g)].map((m) => m[1]));
    }
    assert.equal(new Set(slugs).size, 8, `${slugs}`);
    for (const slug of new Set(slugs)) {
      const { body } = await get(`${site.base}/posts/${slug}`);
      const nav = /<nav class="related" aria-labelledby="related-title">\n<h2 id="related-title">Related posts<\/h2>([\s\S]*?)<\/nav>/.exec(body);
      assert.ok(nav, `${slug} has related posts`);
      const related = [...nav[1].matchAll(/href="\/posts\/([^"]+)"/g)].map((m) => m[1]);
      assert.ok(related.length >= 1 && related.length <= 3, `${slug}: ${related}`);
      assert.ok(!related.includes(slug), `${slug} relates to itself`);
      const neighbours = [...body.matchAll(/<a class="(?:previous|next)" href="\/posts\/([^"]+)"/g)].map((m) => m[1]);
      for (const n of neighbours) assert.ok(!related.includes(n), `${slug}: ${n} is linked twice`);
      for (const r of related) assert.equal((await get(`${site.base}/posts/${r}`)).status, 200, r);
    }
    const { body } = await get(`${site.base}/posts/${MINI}`);
    assert.match(body, /<nav class="related"[\s\S]*?href="\/posts\/how-nixpacks-buildctl-and-buildkit-fit-together"[\s\S]*?<\/nav>/);
  });
});

describe('series', () => {
  const SERIES = '/series/building-a-mini-vercel';

  /** The series box of a post page: { part, of, parts: [href or null (this one)], prev, next }. */
  async function seriesOn(p) {
    const { status, body } = await get(site.base + p);
    assert.equal(status, 200, p);
    const nav = /<nav class="series" aria-label="Series">([\s\S]*?)<\/nav>/.exec(body);
    if (!nav) return null;
    const head = /<p>Part (\d+) of (\d+) of <a href="([^"]+)">([^<]+)<\/a><\/p>/.exec(nav[1]);
    const items = [...nav[1].matchAll(/<li( aria-current="page")?>(?:<a href="([^"]+)">)?/g)].map((m) => (m[1] ? null : m[2]));
    const prev = /<a href="([^"]+)">← Part \d+<\/a>/.exec(nav[1])?.[1] ?? null;
    const next = /<a href="([^"]+)">Part \d+ →<\/a>/.exec(nav[1])?.[1] ?? null;
    return { part: Number(head[1]), of: Number(head[2]), url: head[3], name: head[4], items, prev, next };
  }

  test('each part says which of how many it is, lists the parts and links the next and previous', async () => {
    assert.deepEqual(await seriesOn(`/posts/${MINI}`), {
      part: 1, of: 2, url: SERIES, name: 'Building a mini Vercel',
      items: [null, PHASE_2], prev: null, next: PHASE_2,
    });
    assert.deepEqual(await seriesOn(PHASE_2), {
      part: 2, of: 2, url: SERIES, name: 'Building a mini Vercel',
      items: [`/posts/${MINI}`, null], prev: `/posts/${MINI}`, next: null,
    });
    assert.equal(await seriesOn(NIXPACKS), null, 'a post in no series shows none');
    // Related posts leave out the series' parts, already linked.
    const { body } = await get(site.base + PHASE_2);
    const related = /<nav class="related"[\s\S]*?<\/nav>/.exec(body)[0];
    assert.doesNotMatch(related, new RegExp(MINI));
  });

  test('the series page lists its parts in order with its own Atom feed; tag and year pages name it', async () => {
    const { status, body } = await get(site.base + SERIES);
    assert.equal(status, 200);
    const parts = [...body.matchAll(/<h2><a href="([^"]+)">/g)].map((m) => m[1]);
    assert.deepEqual(parts, [`/posts/${MINI}`, PHASE_2]);
    assert.match(body, /<link rel="alternate" type="application\/atom\+xml" title="[^"]*Building a mini Vercel" href="\/series\/building-a-mini-vercel\/feed.xml">/);
    const feed = await run('python3', ['tests/feedcheck.py', `${site.base}${SERIES}/feed.xml`]);
    assert.equal(feed.code, 0, feed.stdout + feed.stderr);
    const atom = (await get(`${site.base}${SERIES}/feed.xml`)).body;
    assert.equal((atom.match(/<entry>/g) ?? []).length, 2, atom.slice(0, 500));
    for (const p of ['/tags/rust', '/2026/']) {
      const page = (await get(site.base + p)).body;
      assert.match(page, /<a class="in-series" href="\/series\/building-a-mini-vercel">Series: Building a mini Vercel<\/a>/, p);
    }
    assert.equal((await get(`${site.base}/series/no-such-series`)).status, 404);
    assert.equal((await get(`${site.base}/series/no-such-series/feed.xml`)).status, 404);
  });

  test('a scheduled part stays hidden everywhere until it is due', async () => {
    const due = new Date(Math.ceil(Date.now() / 1000 + 25) * 1000);
    const iso = due.toISOString().replace('.000Z', 'Z');
    await fs.writeFile(
      path.join(site.contentDir, 'phase-3.md'),
      `+++\ntitle = "Phase 3: Previews for Pull Requests"\ndate = ${iso}\nsummary = "The third part."\ntags = ["rust", "devops"]\nseries = "Building a mini Vercel"\n+++\n\nPreview URLs for every pull request, built by the same pipeline.\n`,
    );
    const synced = await site.sync();
    assert.equal(synced.code, 0, synced.stdout + synced.stderr);
    assert.ok(Date.now() < due.getTime() - 3000, 'the sync left time to look before the part is due');
    const before = await seriesOn(PHASE_2);
    assert.deepEqual([before.of, before.next], [2, null]);
    assert.doesNotMatch((await get(site.base + SERIES)).body, /phase-3/);
    assert.doesNotMatch((await get(`${site.base}${SERIES}/feed.xml`)).body, /phase-3/);
    assert.equal((await get(`${site.base}/posts/phase-3`)).status, 404);
    await new Promise((r) => setTimeout(r, Math.max(0, due.getTime() - Date.now()) + 1500));
    const after = await seriesOn(PHASE_2);
    assert.deepEqual([after.part, after.of, after.next], [2, 3, '/posts/phase-3']);
    assert.deepEqual((await seriesOn('/posts/phase-3')).prev, PHASE_2);
    const parts = [...(await get(site.base + SERIES)).body.matchAll(/<h2><a href="([^"]+)">/g)].map((m) => m[1]);
    assert.deepEqual(parts, [`/posts/${MINI}`, PHASE_2, '/posts/phase-3']);
    assert.match((await get(`${site.base}${SERIES}/feed.xml`)).body, /phase-3/);
  });

  for (const scheme of ['light', 'dark']) {
    test(`the series page and a part's series box pass axe (${scheme})`, async () => {
      for (const [p, scope] of [[SERIES, 'main'], [PHASE_2, 'nav.series']]) {
        const { context, page, problems } = await open(p, { colorScheme: scheme });
        try {
          const { violations } = await new AxeBuilder({ page }).include(scope).analyze();
          assert.deepEqual(violations.map((v) => `${p} ${v.id}: ${v.help}`), []);
          assert.deepEqual(problems, []);
        } finally {
          await context.close();
        }
      }
    });
  }

  test('the series page and a part fit a 320px screen and 14 KB gzip', async () => {
    for (const p of [SERIES, PHASE_2]) {
      const { context, page } = await open(p, { viewport: { width: 320, height: 640 }, isMobile: true });
      try {
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= 320, `${p} scrollWidth ${width}`);
      } finally {
        await context.close();
      }
      const { body } = await get(site.base + p);
      const css = await get(`${site.base}${/href="(\/style\.css\?v=[^"]+)"/.exec(body)[1]}`);
      const total = gz(body) + gz(css.body);
      console.log(`series: ${p} ${gz(body)} B + stylesheet ${gz(css.body)} B gzip = ${total} B`);
      assert.ok(total <= BUDGET, `${p}: ${total} B`);
    }
  });
});

describe('math', () => {
  const GO = '/posts/from-342mb-to-37mb-the-go-image-i-was-shipping-wrong';

  test('formulas are MathML made at sync: no script, no web font, dollars elsewhere left alone', async () => {
    const { body } = await get(site.base + GO);
    assert.match(body, /<math display="inline"><mfrac><mrow><mn>37<\/mn><\/mrow><mrow><mn>342<\/mn><\/mrow><\/mfrac><mo>≈<\/mo>/);
    assert.match(body, /<math display="block"><mi mathvariant="normal">Δ<\/mi><mo>=<\/mo>/);
    assert.doesNotMatch(textOf(body), /\\frac|\$\$/, 'no TeX left for readers');
    assert.deepEqual([...body.matchAll(/<script[^>]*>/g)].map((m) => m[0]), ['<script type="application/ld+json">']);
    const css = (await get(`${site.base}${/href="(\/style\.css\?v=[^"]+)"/.exec(body)[1]}`)).body;
    assert.doesNotMatch(css, /@font-face|url\(/);
    // A dollar in code stays a dollar.
    const fintech = (await get(`${site.base}/posts/building-a-fintech-platform-with-go-microservices`)).body;
    assert.match(fintech, /balance_cents &gt;= \$1<\/code>/);
    assert.doesNotMatch(fintech, /<math/);
    const feeds = await run('python3', ['tests/feedcheck.py', `${site.base}/feed.xml`, `${site.base}/feed.json`]);
    assert.equal(feeds.code, 0, feeds.stdout + feeds.stderr);
  });

  for (const scheme of ['light', 'dark']) {
    test(`formulas pass axe and take the text's colour (${scheme})`, async () => {
      const { context, page, problems } = await open(GO, { colorScheme: scheme, viewport: { width: 320, height: 640 } });
      try {
        const { violations } = await new AxeBuilder({ page }).include('math').analyze();
        assert.deepEqual(violations.map((v) => `${v.id}: ${v.help}`), []);
        assert.deepEqual(problems, []);
        const colours = await page.evaluate(() => ({
          math: getComputedStyle(document.querySelector('math[display="block"] mi')).color,
          text: getComputedStyle(document.querySelector('.body p')).color,
          width: document.documentElement.scrollWidth,
          drawn: document.querySelector('math[display="block"]').getBoundingClientRect().height,
        }));
        assert.equal(colours.math, colours.text);
        assert.ok(colours.width <= 320, `scrollWidth ${colours.width}`);
        assert.ok(colours.drawn > 10, `the block formula is drawn (${colours.drawn}px high)`);
      } finally {
        await context.close();
      }
    });
  }

  test('a formula that does not parse is a blog check error at its line with the parser\'s message', async () => {
    const file = path.join(site.contentDir, 'zz-bad-math.md');
    await fs.writeFile(file, '+++\ntitle = "Bad math"\ndate = 2026-01-01\nsummary = "S."\n+++\n\nFine $x$.\n\nBroken $x^$ here.\n\n$$\n\\nosuchcommand{y}\n$$\n');
    try {
      const checked = await site.check();
      assert.equal(checked.code, 1, checked.stdout + checked.stderr);
      assert.match(checked.stderr, /zz-bad-math\.md:9: error: the formula does not parse: expected a token/);
      assert.match(checked.stderr, /zz-bad-math\.md:11: error: the formula does not parse: unknown primitive command found/);
    } finally {
      await fs.rm(file);
    }
  });
});

describe('diagrams', () => {
  /** The Nixpacks post's diagram: its figure's HTML. */
  const figureOf = (body) => /<figure class="diagram">[\s\S]*?<\/figure>/.exec(body)?.[0];

  test('a Mermaid block is an inline SVG made at sync, described by its source, with no script or colour of its own', async () => {
    const { status, body } = await get(site.base + NIXPACKS);
    assert.equal(status, 200);
    const figure = figureOf(body);
    assert.ok(figure, 'the Nixpacks post draws its pipeline');
    assert.match(figure, /<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" fill="currentColor" viewBox="[^"]+" width="\d+" height="\d+" role="img" aria-labelledby="(mm\w+)-t" aria-describedby="\1-d"><title id="\1-t">Flowchart<\/title><desc id="\1-d">flowchart TD\n/);
    const desc = /<desc[^>]*>([\s\S]*?)<\/desc>/.exec(figure)[1];
    assert.match(desc, /ctl --&gt;\|"context, over the Unix socket"\| bkd\[buildkitd\]/);
    for (const label of ['nixpacks build', 'buildctl', 'buildkitd', 'Local registry']) {
      assert.ok(textOf(figure.replace(/<desc[\s\S]*?<\/desc>/, '')).includes(label), label);
    }
    assert.doesNotMatch(figure, / style=|<style|<script|foreignObject|fill="#|stroke="#/);
    assert.doesNotMatch(body, /language-mermaid/, 'no code block left for it');
    assert.deepEqual([...body.matchAll(/<script[^>]*>/g)].map((m) => m[0]), ['<script type="application/ld+json">']);
    // Everything but the diagram within 14 KB gzip with the stylesheet; the diagram's own size said.
    const css = await get(`${site.base}${/href="(\/style\.css\?v=[^"]+)"/.exec(body)[1]}`);
    const rest = gz(body.replace(figure, '')) + gz(css.body);
    console.log(`diagram: ${figure.length} B, ${gz(figure)} B gzip alone; the page without it ${gz(body.replace(figure, ''))} B + stylesheet ${gz(css.body)} B gzip = ${rest} B (with it ${gz(body) + gz(css.body)} B)`);
    assert.ok(rest <= BUDGET, `${rest} B`);
  });

  const look = {};
  for (const scheme of ['light', 'dark']) {
    test(`the diagram passes axe, raises no console error and is drawn in the ${scheme} scheme's colours`, async () => {
      const { context, page, problems } = await open(NIXPACKS, { colorScheme: scheme, viewport: { width: 320, height: 640 } });
      try {
        const { violations } = await new AxeBuilder({ page }).include('figure.diagram').analyze();
        assert.deepEqual(violations.map((v) => `${v.id}: ${v.help}`), []);
        assert.deepEqual(problems, []);
        look[scheme] = await page.evaluate(() => {
          const svg = document.querySelector('figure.diagram svg');
          const node = svg.querySelector('.node rect');
          const box = svg.getBoundingClientRect();
          return {
            name: svg.querySelector('title').textContent,
            text: getComputedStyle(svg.querySelector('.node text')).fill,
            stroke: getComputedStyle(node).stroke,
            edge: getComputedStyle(svg.querySelector('.flowchart-link')).stroke,
            shape: getComputedStyle(node).fill,
            page: getComputedStyle(document.body).backgroundColor,
            width: document.documentElement.scrollWidth,
            drawn: [box.width, box.height],
          };
        });
        const l = look[scheme];
        assert.equal(l.name, 'Flowchart');
        assert.ok(l.width <= 320, `scrollWidth ${l.width}`);
        assert.ok(l.drawn[0] > 100 && l.drawn[1] > 200, `drawn ${l.drawn}`);
        assert.equal(l.edge, l.stroke);
        // Text and lines stand out from the page and from the shapes they sit on.
        for (const [what, colour, on] of [['text', l.text, l.shape], ['stroke', l.stroke, l.page], ['text on the page', l.text, l.page]]) {
          const ratio = contrast(colour, on);
          assert.ok(ratio >= 4.5, `${scheme}: ${what} ${colour} on ${on} is ${ratio.toFixed(2)}:1`);
        }
      } finally {
        await context.close();
      }
    });
  }

  test('dark mode draws the diagram in other colours than light mode', () => {
    assert.ok(look.light && look.dark, 'both schemes looked at');
    assert.notEqual(look.light.text, look.dark.text);
    assert.notEqual(look.light.stroke, look.dark.stroke);
    assert.notEqual(look.light.page, look.dark.page);
  });

  test('a diagram that does not parse is a blog check error at its line with the parser\'s message', async () => {
    const file = path.join(site.contentDir, 'zz-bad-diagram.md');
    await fs.writeFile(file, '+++\ntitle = "Bad diagram"\ndate = 2026-01-01\nsummary = "S."\n+++\n\nA pipeline:\n\n```mermaid\nflowchart LR\n  a --> b\n  b --> c[x]y]\n```\n');
    try {
      const checked = await site.check();
      assert.equal(checked.code, 1, checked.stdout + checked.stderr);
      assert.match(checked.stderr, /zz-bad-diagram\.md:12: error: the diagram does not parse: \S/);
    } finally {
      await fs.rm(file);
    }
  });
});

/** WCAG contrast of two `rgb(r, g, b)` colours. */
function contrast(a, b) {
  const lum = (rgb) => {
    const [r, g, bl] = rgb.match(/\d+(\.\d+)?/g).slice(0, 3).map((c) => {
      const v = Number(c) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}
