// The technical writer's toolbox on the real Worker: callouts, in pages (in a real browser,
// light and dark, at 320px, with axe) and in the feeds a real parser reads. One site,
// content = the project's posts, which use each of these for real.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
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
    test(`a callout passes axe, raises no console error and follows the ${scheme} scheme`, async () => {
      const { context, page, problems } = await open(PHASE_2, { colorScheme: scheme });
      try {
        // The callouts themselves: this post's wide code blocks (a scroll region without a
        // tab stop) are another matter, the same on every post with code wider than the page.
        const { violations } = await new AxeBuilder({ page }).include('aside.callout').analyze();
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
