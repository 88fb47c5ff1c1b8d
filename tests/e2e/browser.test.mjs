// The site in a real browser (Chromium through playwright-core): no console errors, CSP
// violations or failed requests, navigation works, the layout fits a 320px phone, and the
// screenshots in tests/artifacts/ are there for a person to look at.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { ARTIFACTS, getIndex, startSite } from './harness.mjs';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let site;
let browser;

before(async () => {
  await fs.mkdir(ARTIFACTS, { recursive: true });
  [site, browser] = await Promise.all([
    startSite(),
    chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true }),
  ]);
});
after(async () => {
  await browser?.close();
  await site?.stop();
});

/** A page that records everything that went wrong while it was open. */
async function openPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error' && msg.type() !== 'warning') return;
    // Chromium's own request for /favicon.ico, which the pages never ask for, is checked
    // on its own below.
    if (new URL(msg.location().url || 'about:blank').pathname === '/favicon.ico') return;
    problems.push(`console.${msg.type()}: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  return { context, page, problems };
}

const shot = (name) => path.join(ARTIFACTS, name);

async function assertStyled(page) {
  // The stylesheet applied: the body font is not the browser default serif.
  const font = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
  assert.match(font, /system-ui/, 'style.css is applied (CSP allows it)');
}

test('the index loads cleanly and looks like the index', async () => {
  const { context, page, problems } = await openPage();
  try {
    const res = await page.goto(`${site.base}/`, { waitUntil: 'load' });
    assert.equal(res.status(), 200);
    await page.waitForLoadState('networkidle');
    assert.equal(await page.locator('h1').innerText(), 'Writing');
    const expected = await getIndex(site);
    const titles = await page.locator('li.post h3 a').allInnerTexts();
    assert.deepEqual(titles, expected.posts.map((p) => p.title));
    const popular = await page.locator('aside.popular ol li a').allInnerTexts();
    assert.deepEqual(popular, expected.popular.map((p) => p.title));
    await assertStyled(page);
    // Wide screens: the list and Popular Reads side by side.
    const [list, aside] = await Promise.all([
      page.locator('section.writing').boundingBox(),
      page.locator('aside.popular').boundingBox(),
    ]);
    assert.ok(aside.x >= list.x + list.width, `Popular Reads sits to the right of the list (${JSON.stringify({ list, aside })})`);
    await page.screenshot({ path: shot('index.png'), fullPage: true });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('clicking the first post opens it', async () => {
  const { context, page, problems } = await openPage();
  try {
    await page.goto(`${site.base}/`);
    const link = page.locator('li.post h3 a').first();
    const [title, href] = [await link.innerText(), await link.getAttribute('href')];
    await Promise.all([page.waitForURL(`${site.base}${href}`), link.click()]);
    assert.equal(new URL(page.url()).pathname, href);
    assert.equal(await page.locator('h1').innerText(), title);
    assert.match(await page.title(), new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.ok((await page.locator('.body pre code').count()) > 0, 'code blocks rendered');
    await assertStyled(page);
    await page.screenshot({ path: shot('post.png'), fullPage: true });
    // And back home.
    await Promise.all([page.waitForURL(`${site.base}/`), page.locator('footer a[href="/"]').click()]);
    assert.equal(await page.locator('h1').innerText(), 'Writing');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('at 320px wide the index does not overflow horizontally', async () => {
  const { context, page, problems } = await openPage({ viewport: { width: 320, height: 640 }, isMobile: true, deviceScaleFactor: 2 });
  try {
    await page.goto(`${site.base}/`);
    await page.screenshot({ path: shot('index-320.png'), fullPage: true });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 320, `index scrollWidth ${width} <= 320`);
    // Popular Reads goes below the list on a narrow screen.
    const [list, aside] = await Promise.all([
      page.locator('section.writing').boundingBox(),
      page.locator('aside.popular').boundingBox(),
    ]);
    assert.ok(aside.y >= list.y + list.height, 'Popular Reads below the list');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('at 320px wide no post overflows horizontally', async () => {
  const { context, page, problems } = await openPage({ viewport: { width: 320, height: 640 }, isMobile: true, deviceScaleFactor: 2 });
  try {
    const { posts } = await getIndex(site);
    const wide = [];
    for (const { href } of posts) {
      await page.goto(`${site.base}${href}`);
      const w = await page.evaluate(() => document.documentElement.scrollWidth);
      if (w > 320) {
        // Name the culprits: elements outside scroll containers that end past the edge.
        const culprits = await page.evaluate(() => {
          const found = [...document.querySelectorAll('main *')].filter(
            (e) => e.getBoundingClientRect().right > 321 && !e.closest('pre, table'),
          );
          found[0]?.scrollIntoView({ block: 'center' });
          return found.map((e) => e.outerHTML.slice(0, 80));
        });
        wide.push(`${href}: ${w}px wide, ${JSON.stringify(culprits)}`);
        await page.screenshot({ path: shot(`post-320-overflow-${wide.length}.png`), fullPage: false });
      }
    }
    await page.goto(`${site.base}${posts[0].href}`);
    await page.screenshot({ path: shot('post-320.png'), fullPage: true });
    assert.deepEqual(wide, [], 'posts wider than a 320px screen');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('the browser\'s favicon request does not end in a 404', async () => {
  const body = await (await fetch(`${site.base}/`)).text();
  const declared = /<link [^>]*rel="(shortcut )?icon"/.test(body);
  const res = await fetch(`${site.base}/favicon.ico`);
  await res.arrayBuffer();
  assert.ok(declared || res.ok, `no <link rel="icon"> and GET /favicon.ico answered ${res.status}`);
});

test('search works with JavaScript off, at 320px, in the dark', async () => {
  const { context, page, problems } = await openPage({
    viewport: { width: 320, height: 640 },
    isMobile: true,
    deviceScaleFactor: 2,
    colorScheme: 'dark',
    javaScriptEnabled: false,
  });
  try {
    await page.goto(`${site.base}/`);
    // The header's form, by its label: type and press Enter, as a reader would.
    const box = page.getByLabel('Search', { exact: true });
    await box.fill('distroless');
    await Promise.all([page.waitForURL(/\/search\?q=distroless$/), box.press('Enter')]);
    assert.equal(await page.locator('h1').innerText(), 'Search');
    const first = page.locator('ol.results li.post h2 a').first();
    assert.match(await first.innerText(), /From 342MB to 37MB/);
    assert.ok((await page.locator('ol.results mark').count()) > 0, 'matched words are marked');
    assert.equal(await page.locator('#q').inputValue(), 'distroless', 'the form shows the query back');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 320, `search page scrollWidth ${width} <= 320`);
    const [bg, mark] = await page.evaluate(() => [
      getComputedStyle(document.body).backgroundColor,
      getComputedStyle(document.querySelector('mark')).backgroundColor,
    ]);
    assert.notEqual(bg, 'rgb(253, 253, 252)', `dark background (${bg})`);
    assert.notEqual(mark, bg, 'marks stand out');
    await page.screenshot({ path: shot('search-320-dark.png'), fullPage: true });
    // The results page's own form searches again.
    await page.locator('#q').fill('"unix socket"');
    await Promise.all([page.waitForURL(/q=%22unix\+socket%22/), page.locator('form.search button').click()]);
    assert.ok((await page.locator('ol.results li').count()) > 0);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('dark mode uses the dark palette', async () => {
  const { context, page, problems } = await openPage({ colorScheme: 'dark' });
  try {
    await page.goto(`${site.base}/`);
    const [bg, fg] = await page.evaluate(() => {
      const s = getComputedStyle(document.body);
      return [s.backgroundColor, s.color];
    });
    const luminance = (rgb) => {
      const [r, g, b] = rgb.match(/\d+/g).slice(0, 3).map(Number).map((c) => {
        const v = c / 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    assert.ok(luminance(bg) < 0.05, `dark background (${bg})`);
    assert.ok(luminance(fg) > 0.5, `light text (${fg})`);
    const contrast = (luminance(fg) + 0.05) / (luminance(bg) + 0.05);
    assert.ok(contrast >= 7, `body text contrast ${contrast.toFixed(1)}:1`);
    await page.screenshot({ path: shot('index-dark.png'), fullPage: true });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

for (const scheme of ['light', 'dark']) {
  test(`no serious accessibility violations (axe, ${scheme})`, async () => {
    const { context, page } = await openPage({ colorScheme: scheme });
    try {
      const { posts } = await getIndex(site);
      const found = [];
      for (const p of ['/', posts[0].href, '/nope', '/search?q=docker', '/search?q=dokcerr']) {
        await page.goto(`${site.base}${p}`);
        const results = await new AxeBuilder({ page }).analyze();
        for (const v of results.violations) {
          if (v.impact === 'serious' || v.impact === 'critical') {
            found.push(`${p}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
          }
        }
      }
      assert.deepEqual(found, []);
    } finally {
      await context.close();
    }
  });
}
