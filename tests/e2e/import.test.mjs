// `blog import` on a small blog of each engine the tests carry (tests/fixtures/import/): the
// real `blog` binary writes the posts and their images into one content folder, `blog check`
// passes, and on the real Worker every old URL answers 301 to the post's new address.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BLOG, ROOT, removeTemp, run, startSite, tempDir } from './harness.mjs';

const FIXTURES = path.join(ROOT, 'tests/fixtures/import');

// Each engine's old URLs and the post each must lead to.
const OLD_URLS = {
  hugo: {
    '/2023/01/cutting-go-build-times/': 'cutting-go-build-times',
    '/old/go-cache/': 'cutting-go-build-times',
    '/2023/03/profiling-the-linker/': 'profiling-the-linker',
  },
  jekyll: {
    '/devops/2021/03/04/docker-layer-caching.html': 'docker-layer-caching',
    '/2021/docker-caching/': 'docker-layer-caching',
    '/devops/docker/2021/05/06/multi-stage-builds.html': 'multi-stage-builds',
  },
  zola: {
    '/blog/io-uring-in-practice/': 'io-uring-in-practice',
    '/posts/io-uring/': 'io-uring-in-practice',
    '/notes/liburing-setup/': 'second',
  },
  astro: {
    '/blog/first-post/': 'first-post',
  },
};

// What each import must report it could not carry over, at the source's file and line.
const REPORTED = {
  hugo: /hugo\/content\/posts\/cutting-go-build-times\.md:25: warning: the Hugo shortcode `\{\{< youtube dQw4w9WgXcQ >\}\}` is not imported/,
  jekyll: /jekyll\/_posts\/2021-03-04-docker-layer-caching\.md:25: warning: the Liquid tag `\{% include note\.html/,
  zola: /zola\/content\/blog\/second\/index\.md:16: warning: the Zola shortcode `\{% note\(kind="warning"\) %\}`/,
  astro: /astro\/src\/content\/blog\/using-mdx\.mdx:14: warning: the MDX component <Chart> is not imported/,
};

let dir;
let site;
const imports = {};

async function files(root) {
  const out = [];
  for (const entry of await fs.readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(path.relative(root, path.join(entry.parentPath ?? entry.path, entry.name)));
  }
  return out.sort();
}

before(async () => {
  dir = await tempDir('blog-import-');
  for (const engine of Object.keys(OLD_URLS)) {
    imports[engine] = await run(BLOG, ['import', '--from', engine, path.join(FIXTURES, engine), '--content', dir], { cwd: ROOT });
  }
});

after(async () => {
  await site?.stop();
  if (dir) await removeTemp(dir);
});

describe('blog import', () => {
  for (const engine of Object.keys(OLD_URLS)) {
    test(`${engine}: imports, reports what it could not map at file:line, and checks`, () => {
      const { code, stdout, stderr } = imports[engine];
      assert.equal(code, 0, stdout + stderr);
      assert.match(stderr, REPORTED[engine]);
      assert.match(stdout, /imported \d+ posts and \d+ files from .*; \d+ things to look at/);
      // It ends with `blog check` over the content folder.
      assert.match(stdout, /\d+ posts OK \(/);
    });
  }

  test('a second import over the same folder writes nothing and says which files are in the way', async () => {
    const before = await files(dir);
    const texts = await Promise.all(before.map((f) => fs.readFile(path.join(dir, f))));
    const again = await run(BLOG, ['import', '--from', 'hugo', path.join(FIXTURES, 'hugo'), '--content', dir], { cwd: ROOT });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /cutting-go-build-times\.md: already exists/);
    assert.match(again.stderr, /nothing written: 5 files the import would write already exist/);
    assert.deepEqual(await files(dir), before);
    const after = await Promise.all(before.map((f) => fs.readFile(path.join(dir, f))));
    assert.deepEqual(after, texts);
  });

  test('blog check passes on the four blogs together', async () => {
    const check = await run(BLOG, ['check', '--content', dir], { cwd: ROOT });
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /10 posts OK \(3 drafts, /);
  });

  test('on the Worker, every old URL answers 301 to the post, whose page and images answer', async () => {
    site = await startSite({ contentDir: dir });
    for (const [engine, urls] of Object.entries(OLD_URLS)) {
      for (const [old, slug] of Object.entries(urls)) {
        // An old URL under /posts/ with a trailing slash first meets the site's own rule (one 301
        // to the slashless path), then the alias: two hops at most, each a 301.
        let path = old;
        for (let hop = 0; path !== `/posts/${slug}`; hop++) {
          assert.ok(hop < 2, `${engine} ${old}: more than two redirects`);
          const res = await fetch(site.base + path, { redirect: 'manual' });
          assert.equal(res.status, 301, `${engine} ${path}`);
          path = new URL(res.headers.get('location'), site.base).pathname;
        }
        const page = await fetch(site.base + `/posts/${slug}`);
        assert.equal(page.status, 200, `/posts/${slug}`);
        const html = await page.text();
        for (const [, src] of html.matchAll(/<img[^>]* src="(\/files\/[^"]+)"/g)) {
          const image = await fetch(site.base + src);
          assert.equal(image.status, 200, src);
          assert.equal(image.headers.get('content-type'), 'image/png', src);
        }
      }
    }
    // The links between imported posts go to the new addresses, with no redirect on the way.
    const caching = await (await fetch(site.base + '/posts/docker-layer-caching')).text();
    assert.match(caching, /href="\/posts\/multi-stage-builds"/);
    assert.match(caching, /<img[^>]* src="\/files\/[^"]+"[^>]*alt="The pipeline"|alt="The pipeline"[^>]* src="\/files\//);
    // Code from Hugo's and Jekyll's highlight blocks is highlighted like any fence.
    const cache = await (await fetch(site.base + '/posts/cutting-go-build-times')).text();
    assert.match(cache, /<pre[^>]*><code[^>]*>[\s\S]*fmt/);
    // Drafts (Jekyll's `published: false` and `_drafts/`, Astro's `draft: true`) stay unpublished.
    for (const slug of ['unfinished-thoughts', 'a-post-idea', 'using-mdx']) {
      assert.equal((await fetch(site.base + `/posts/${slug}`)).status, 404, slug);
    }
  });
});
