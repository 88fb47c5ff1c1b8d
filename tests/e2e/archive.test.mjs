// A long archive on the real worker: 2,000 generated posts over nine years, five tags.
// Every post is reachable from `/` in at most three clicks by following the links pages
// write; every HTML page, with its stylesheet, stays within 14 KB gzip; an edit in the middle
// of the archive and a scheduled post show up in the right year page, tag page and
// neighbours right after the sync (the scheduled one at its time).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { decodeEntities, get, waitFor } from './harness.mjs';
import { removeTemp, startSite, tempDir } from './support.mjs';

const POSTS = 2000;
const TAGS = ['rust', 'go', 'web', 'ops', 'notes'];
const BUDGET = 14 * 1024;
// From 2016-01-01, a post every 40 hours: the newest is from early 2025.
const FIRST = Date.UTC(2016, 0, 1, 9);
const STEP = 40 * 3600_000;

const slugOf = (i) => `post-${String(i).padStart(4, '0')}`;
const dateOf = (i) => new Date(FIRST + i * STEP);
const tagOf = (i) => TAGS[i % TAGS.length];

function postFile(i, { title = `Post number ${i}`, date = dateOf(i).toISOString().replace('.000Z', 'Z') } = {}) {
  const words = Array.from({ length: 40 }, (_, w) => `word${(i * 7 + w) % 97}`).join(' ');
  return `+++\ntitle = "${title}"\ndate = ${date}\nsummary = "What post ${i} is about, in one line of a sensible length."\ntags = ["${tagOf(i)}"]\nslug = "${slugOf(i)}"\n+++\n\n## Part one\n\n${words}.\n\n## Part two\n\n${words} ${words}.\n`;
}

/** Hrefs of site pages in an HTML page (no files, feeds, badges or assets). */
function pageLinks(html) {
  return [...html.matchAll(/<a [^>]*href="(\/[^"]*)"/g)]
    .map((m) => decodeEntities(m[1]))
    .filter((href) => !/^\/(files\/|style\.css|favicon|site\.webmanifest)|\.(xml|json|svg)$/.test(href));
}

const gz = (body) => gzipSync(Buffer.from(body)).length;

describe('a 2,000-post archive', () => {
  let site;
  let contentDir;
  let stylesheet;

  before(async () => {
    contentDir = await tempDir('blog-e2e-archive-');
    for (let i = 0; i < POSTS; i++) {
      await fs.writeFile(path.join(contentDir, `${slugOf(i)}.md`), postFile(i));
    }
    site = await startSite({ contentDir });
    const home = await get(`${site.base}/`);
    const href = home.body.match(/<link rel="stylesheet" href="([^"]+)"/)[1];
    stylesheet = gz((await get(`${site.base}${href}`)).body);
  });
  after(async () => {
    await site?.stop();
    if (contentDir) await removeTemp(contentDir);
  });

  test('every post is at most three clicks from the front page', async () => {
    const depth = new Map([['/', 0]]);
    let frontier = ['/'];
    for (let d = 1; d <= 3; d++) {
      const next = [];
      for (const page of frontier) {
        const { status, body } = await get(`${site.base}${page}`);
        assert.equal(status, 200, page);
        for (const href of pageLinks(body)) {
          if (!depth.has(href)) {
            depth.set(href, d);
            next.push(href);
          }
        }
      }
      // The third click's pages are reached, not followed further.
      frontier = next;
    }
    const missing = [];
    for (let i = 0; i < POSTS; i++) {
      if (!depth.has(`/posts/${slugOf(i)}`)) missing.push(slugOf(i));
    }
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} posts are more than three clicks away`);
    const front = (await get(`${site.base}/`)).body;
    assert.equal(front.match(/<li class="post">/g).length, 30, 'the front page shows the newest 30');
    assert.match(front, /<a href="\/archive">Older posts, by year →<\/a>/);
  });

  test('every HTML page, its stylesheet included, is within 14 KB gzip', async () => {
    const archive = (await get(`${site.base}/archive`)).body;
    const pages = new Set(['/', '/archive', '/tags']);
    for (const href of pageLinks(archive)) pages.add(href);
    for (const tag of TAGS) {
      const first = (await get(`${site.base}/tags/${tag}`)).body;
      for (const href of pageLinks(first)) if (href.startsWith(`/tags/${tag}`)) pages.add(href);
    }
    for (let i = 0; i < POSTS; i++) pages.add(`/posts/${slugOf(i)}`);
    const sizes = [];
    for (const page of pages) {
      const { status, headers, body } = await get(`${site.base}${page}`);
      assert.equal(status, 200, page);
      if (!/html/.test(headers.get('content-type'))) continue;
      sizes.push([gz(body) + stylesheet, page]);
    }
    sizes.sort((a, b) => b[0] - a[0]);
    console.log(`archive: ${sizes.length} pages; largest with the stylesheet (${stylesheet} B gzip): ${sizes.slice(0, 3).map(([s, p]) => `${p} ${s} B`).join(', ')}`);
    assert.ok(sizes.length > POSTS + 50, `${sizes.length} pages checked`);
    assert.ok(sizes[0][0] <= BUDGET, `${sizes[0][1]} is ${sizes[0][0]} B gzip with its stylesheet`);
  });

  test('year and tag pages are numbered pages linked to each other', async () => {
    const years = (await get(`${site.base}/archive`)).body;
    const count2020 = Number(years.match(/href="\/2020\/">2020<\/a> <span class="count">([\d,]+) posts/)[1].replaceAll(',', ''));
    assert.match(years, /<p class="tagline">2,000 posts, by year\.<\/p>/, 'counts are grouped by thousands');
    assert.ok(count2020 > 150, `${count2020} posts in 2020`);
    const pages = Math.ceil(count2020 / 50);
    let seen = 0;
    for (let n = 1; n <= pages; n++) {
      const url = n === 1 ? '/2020/' : `/2020/page/${n}/`;
      const { status, body } = await get(`${site.base}${url}`);
      assert.equal(status, 200, url);
      seen += body.match(/<li class="post">/g).length;
      assert.equal(/<link rel="prev"/.test(body), n > 1, `${url}: rel=prev`);
      assert.equal(/<link rel="next"/.test(body), n < pages, `${url}: rel=next`);
    }
    assert.equal(seen, count2020, 'the pages of 2020 list each of its posts once');
    assert.equal((await get(`${site.base}/2020/page/${pages + 1}/`)).status, 404);
    const tag = await get(`${site.base}/tags/go/page/2`);
    assert.equal(tag.status, 200);
    assert.match(tag.body, /<link rel="prev" href="[^"]*\/tags\/go">/);
    assert.equal(tag.body.match(/<li class="post">/g).length, 50);
  });

  test('an edit in the middle and a scheduled post land in their year, tag and neighbours', async () => {
    // The edit: post 1000 gets a new title.
    const middle = 1000;
    await fs.writeFile(path.join(contentDir, `${slugOf(middle)}.md`), postFile(middle, { title: 'Edited in the middle' }));
    // The scheduled post: due 45 s from now (a sync of 2,000 posts on a busy machine takes
    // a good part of that), the newest of all.
    const due = new Date(Math.ceil((Date.now() + 45_000) / 1000) * 1000);
    const scheduled = POSTS;
    await fs.writeFile(
      path.join(contentDir, `${slugOf(scheduled)}.md`),
      postFile(scheduled, { title: 'Scheduled at its minute', date: due.toISOString().replace('.000Z', 'Z') }),
    );
    const synced = await site.sync();
    assert.equal(synced.code, 0, synced.stderr);

    const year = dateOf(middle).getUTCFullYear();
    const yearPages = [...(await get(`${site.base}/archive`)).body.matchAll(new RegExp(`href="(/${year}/(?:page/\\d+/)?)"`, 'g'))].map((m) => m[1]);
    let found = 0;
    for (const url of new Set(yearPages)) {
      const { body } = await get(`${site.base}${url}`);
      if (body.includes(`/posts/${slugOf(middle)}">Edited in the middle</a>`)) found++;
      assert.ok(!body.includes(`>Post number ${middle}</a>`), `${url} shows the old title`);
    }
    assert.equal(found, 1, `the edit is on one page of ${year}`);
    for (const neighbour of [middle - 1, middle + 1]) {
      const { body } = await get(`${site.base}/posts/${slugOf(neighbour)}`);
      assert.match(body, /<span>(Previous|Next)<\/span> Edited in the middle<\/a>/, `${slugOf(neighbour)} links the edit`);
    }
    const tagPages = [];
    for (let n = 1; ; n++) {
      const { status, body } = await get(`${site.base}/tags/${tagOf(middle)}${n === 1 ? '' : `/page/${n}`}`);
      if (status !== 200) break;
      tagPages.push(body);
    }
    assert.equal(tagPages.filter((b) => b.includes('>Edited in the middle</a>')).length, 1, 'the edit is on one page of its tag');

    // Not yet due: nowhere.
    assert.ok(Date.now() < due.getTime() - 3000, 'the sync took too long to check the post before it is due');
    const newestYear = due.getUTCFullYear();
    const before = await get(`${site.base}/${newestYear}/`);
    assert.ok(!before.body.includes('Scheduled at its minute'));
    assert.equal((await get(`${site.base}/posts/${slugOf(scheduled)}`)).status, 404);
    // Due: on the front page, page 1 of its year and of its tag, and the newest post's neighbour.
    await waitFor(async () => (await get(`${site.base}/posts/${slugOf(scheduled)}`)).status === 200, {
      timeoutMs: 70_000,
      describe: () => `the scheduled post (due ${due.toISOString()}) never appeared`,
    });
    assert.match((await get(`${site.base}/`)).body, /Scheduled at its minute/);
    assert.match((await get(`${site.base}/${newestYear}/`)).body, /Scheduled at its minute/);
    assert.match((await get(`${site.base}/tags/${tagOf(scheduled)}`)).body, /Scheduled at its minute/);
    const previousNewest = await get(`${site.base}/posts/${slugOf(POSTS - 1)}`);
    assert.match(previousNewest.body, /<span>Next<\/span> Scheduled at its minute<\/a>/);
  });
});
