// `blog sync` against a running site: what it prints, and what readers see right after.
// Works on a temporary copy of content/ so posts can be edited, added and deleted.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { get, getIndex, startSite, tempDir, textOf } from './harness.mjs';

let site;

before(async () => {
  site = await startSite({ copyContent: true });
});
after(() => site?.stop());

const marker = (what) => `E2E ${what} sentence ${crypto.randomUUID()}.`;

async function slugsOnDisk() {
  return (await fs.readdir(site.contentDir))
    .filter((f) => f.endsWith('.md'))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** The per-post lines of a sync report: [[change, slug], ...]. */
function changes(stdout) {
  return [...stdout.matchAll(/^ {2}(added|updated|removed) +(\S+)$/gm)].map((m) => [m[1], m[2]]);
}

/** Report lines in one order, for comparing sets of them. */
const sorted = (lines) => lines.map((l) => l.join(' ')).sort();

/** The summary line of a sync report, as numbers. */
function summary(stdout) {
  const m = /^(\d+) added, (\d+) updated, (\d+) removed, (\d+) unchanged; index (written|unchanged)$/m.exec(stdout);
  assert.ok(m, `no summary line in:\n${stdout}`);
  return { added: +m[1], updated: +m[2], removed: +m[3], unchanged: +m[4], index: m[5] };
}

async function postBody(href) {
  const res = await get(`${site.base}${href}`);
  assert.equal(res.status, 200, `GET ${href}`);
  const body = /<div class="body">([\s\S]*?)<\/div>\s*<footer>/.exec(res.body);
  assert.ok(body, `${href} has a body`);
  return textOf(body[1]);
}

/** The related posts a post's page ends with, as links. */
async function relatedOf(slug) {
  const { body } = await get(`${site.base}/posts/${slug}`);
  const nav = /<nav class="related"[\s\S]*?<\/nav>/.exec(body);
  return nav ? [...nav[0].matchAll(/href="([^"]+)"/g)].map((m) => m[1]) : [];
}

/** Every post's related posts, by slug. */
async function relatedOfAll(slugs) {
  return Object.fromEntries(await Promise.all(slugs.map(async (s) => [s, await relatedOf(s)])));
}

/** The posts of `before` whose related posts are others now, `except` aside. */
async function relatedChanged(before, except) {
  const now = await relatedOfAll(Object.keys(before));
  return Object.keys(before).filter((s) => !except.includes(s) && JSON.stringify(now[s]) !== JSON.stringify(before[s]));
}

/** What the index lists (not Popular Reads, which moves with reads). */
async function listing() {
  return (await getIndex(site)).posts.map(({ href, title, summary, datetime }) => ({ href, title, summary, datetime }));
}

test('the first sync added every post and wrote the index', async () => {
  const first = site.firstSync.stdout;
  const files = await slugsOnDisk();
  assert.deepEqual(changes(first).map(([c]) => c), files.map(() => 'added'));
  assert.deepEqual(changes(first).map(([, s]) => s).sort(), files);
  assert.deepEqual(summary(first), { added: files.length, updated: 0, removed: 0, unchanged: 0, index: 'written' });
  assert.doesNotMatch(first, /Nothing to write/);
  assert.deepEqual((await listing()).map((p) => p.href.replace('/posts/', '')).sort(), files);
});

test('a second sync with nothing changed writes nothing', async () => {
  const before = await listing();
  const res = await site.sync();
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(changes(res.stdout), [], 'no post lines');
  const files = await slugsOnDisk();
  assert.deepEqual(summary(res.stdout), { added: 0, updated: 0, removed: 0, unchanged: files.length, index: 'unchanged' });
  assert.match(res.stdout, new RegExp(`^0 added, 0 updated, 0 removed, ${files.length} unchanged; index unchanged$`, 'm'));
  assert.match(res.stdout, /^Nothing to write\.$/m);
  assert.deepEqual(await listing(), before);
});

test('what a sync keeps for the next one is only a speed-up: lost or damaged, the same sync writes nothing', async () => {
  const kept = ['blog-search-terms.txt', 'blog-related.txt'].map((f) => path.join(site.stateDir, f));
  const { posts } = await getIndex(site);
  const slugs = posts.slice(0, 4).map((p) => p.href.split('/').pop());
  const related = async () => Promise.all(slugs.map(relatedOf));
  const before = await related();
  assert.ok(before.some((r) => r.length > 0), 'some of them show related posts');
  const stats = await Promise.all(kept.map((f) => fs.stat(f)));
  await fs.rm(kept[0]);
  await fs.writeFile(kept[1], 'blog related posts 0\n9 9 9\nend\n');
  for (const round of ['lost', 'kept again']) {
    const res = await site.sync();
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^Nothing to write\.$/m, `${round}: ${res.stdout}`);
    assert.deepEqual(await related(), before, round);
  }
  // Made again by the first of those syncs, and left alone by the second.
  const again = await Promise.all(kept.map((f) => fs.stat(f)));
  for (const [i, s] of again.entries()) assert.ok(s.size > 0 && s.mtimeMs >= stats[i].mtimeMs, kept[i]);
  const res = await site.sync();
  assert.equal(res.code, 0, res.stderr);
  const third = await Promise.all(kept.map((f) => fs.stat(f)));
  assert.deepEqual(third.map((s) => s.mtimeMs), again.map((s) => s.mtimeMs), 'a sync with nothing changed rewrites neither');
});

test('editing a post body updates that post and the index, visible on the next request', async () => {
  const { posts } = await getIndex(site);
  const post = posts[2];
  const slug = post.href.split('/').pop();
  const sentence = marker('edit');
  assert.ok(!(await postBody(post.href)).includes(sentence));
  const before = await listing();

  await fs.appendFile(path.join(site.contentDir, `${slug}.md`), `\n${sentence}\n`);
  const res = await site.sync();
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(changes(res.stdout), [['updated', slug]]);
  // The index record carries every post's content hash, so it is rewritten as well.
  const files = await slugsOnDisk();
  assert.deepEqual(summary(res.stdout), { added: 0, updated: 1, removed: 0, unchanged: files.length - 1, index: 'written' });
  assert.doesNotMatch(res.stdout, /Nothing to write/);

  // The very next request shows it.
  const body = await postBody(post.href);
  assert.ok(body.includes(sentence), `the new sentence is on ${post.href}`);
  assert.ok(body.endsWith(sentence), 'as the last paragraph');
  assert.deepEqual(await listing(), before, 'the index lists the same posts');
});

test('a new post is added, listed in date order and served, with its text escaped', async () => {
  const slug = 'e2e-added-post';
  const title = `Tom & "Jerry" <script>alert('x')</script>`;
  const sentence = marker('added');
  // Dated between the two oldest posts, so it must land second to last.
  const { posts } = await getIndex(site);
  const [older, newer] = [Date.parse(posts.at(-1).datetime), Date.parse(posts.at(-2).datetime)];
  const when = new Date(Math.floor((older + newer) / 2 / 86_400_000) * 86_400_000);
  assert.ok(when > older && when < newer, 'a day between the two oldest posts');
  const date = when.toISOString().slice(0, 10);
  const relatedBefore = await relatedOfAll(await slugsOnDisk());
  await fs.writeFile(
    path.join(site.contentDir, `${slug}.md`),
    `+++\ntitle = ${JSON.stringify(title)}\ndate = ${date}\nsummary = "A post the e2e tests added."\ntags = ["test"]\n+++\n\n## Section\n\n${sentence}\n`,
  );
  const res = await site.sync();
  assert.equal(res.code, 0, res.stderr);
  // Its two neighbours link it now, and the posts whose related posts changed (a new post
  // moves every term's weight a little) show others: those are written again, no other.
  const [olderSlug, newerSlug] = [posts.at(-1), posts.at(-2)].map((p) => p.href.split('/').pop());
  const updated = [olderSlug, newerSlug, ...(await relatedChanged(relatedBefore, [olderSlug, newerSlug]))];
  assert.deepEqual(sorted(changes(res.stdout)), sorted([['added', slug], ...updated.map((s) => ['updated', s])]));
  assert.deepEqual(summary(res.stdout), { added: 1, updated: updated.length, removed: 0, unchanged: posts.length - updated.length, index: 'written' });

  const index = await getIndex(site);
  assert.equal(index.posts.length, posts.length + 1);
  assert.equal(index.posts.at(-2).href, `/posts/${slug}`, 'second to last, by date');
  assert.equal(index.posts.at(-2).title, title, 'the title, as written');
  const html = (await get(`${site.base}/`)).body;
  assert.ok(!html.includes('<script>'), 'no markup injected into the index');
  const page = await get(`${site.base}/posts/${slug}`);
  assert.equal(page.status, 200);
  assert.equal(textOf(/<h1>([\s\S]*?)<\/h1>/.exec(page.body)[1]), title);
  assert.ok(!page.body.includes('<script>'), 'no markup injected into the post');
  assert.ok((await postBody(`/posts/${slug}`)).includes(sentence));
  // Right after the sync, the neighbours' pages link it, and it links them.
  const neighbours = (body) => /<nav class="neighbours"[\s\S]*?<\/nav>/.exec(body)?.[0] ?? '';
  assert.match(neighbours(page.body), new RegExp(`href="/posts/${olderSlug}" rel="prev"`));
  assert.match(neighbours(page.body), new RegExp(`href="/posts/${newerSlug}" rel="next"`));
  const olderPage = (await get(`${site.base}/posts/${olderSlug}`)).body;
  assert.match(neighbours(olderPage), new RegExp(`href="/posts/${slug}" rel="next"`));
  const newerPage = (await get(`${site.base}/posts/${newerSlug}`)).body;
  assert.match(neighbours(newerPage), new RegExp(`href="/posts/${slug}" rel="prev"`));
});

test('a post dated in the future is synced but not shown', async () => {
  const slug = 'e2e-future-post';
  await fs.writeFile(
    path.join(site.contentDir, `${slug}.md`),
    `+++\ntitle = "From the future"\ndate = 2999-01-01\nsummary = "Not yet."\n+++\n\nLater.\n`,
  );
  const newest = (await getIndex(site)).posts[0].href;
  const relatedBefore = await relatedOfAll((await slugsOnDisk()).filter((s) => s !== slug));
  const res = await site.sync();
  assert.equal(res.code, 0, res.stderr);
  // The newest post stores it as its newer neighbour, shown from its date on; a post
  // whose related posts changed is written again too, and none shows it.
  const newestSlug = newest.split('/').pop();
  const updated = [newestSlug, ...(await relatedChanged(relatedBefore, [newestSlug]))];
  assert.deepEqual(sorted(changes(res.stdout)), sorted([['added', slug], ...updated.map((s) => ['updated', s])]));
  for (const s of Object.keys(relatedBefore)) assert.ok(!(await relatedOf(s)).includes(`/posts/${slug}`), `${s} shows it`);
  const index = await getIndex(site);
  assert.ok(!index.posts.some((p) => p.href === `/posts/${slug}`), 'not on the index');
  assert.doesNotMatch((await get(`${site.base}${newest}`)).body, new RegExp(`/posts/${slug}`), 'no link to it yet');
  assert.ok(!index.popular.some((p) => p.href === `/posts/${slug}`), 'not in Popular Reads');
  assert.equal((await get(`${site.base}/posts/${slug}`)).status, 404);
});

test('deleting a post file removes the post: off the index, its URL 404', async () => {
  const before = await listing();
  const victim = before[1];
  const slug = victim.href.split('/').pop();
  assert.equal((await get(`${site.base}${victim.href}`)).status, 200);

  const others = (await slugsOnDisk()).filter((s) => s !== slug);
  const relatedBefore = await relatedOfAll(others);
  await fs.rm(path.join(site.contentDir, `${slug}.md`));
  const res = await site.sync();
  assert.equal(res.code, 0, res.stderr);
  // Its neighbours now neighbour each other, and the posts whose related posts changed
  // (every one that named it, at least) show others: those are rewritten, no other.
  const [newerSlug, olderSlug] = [before[0], before[2]].map((p) => p.href.split('/').pop());
  for (const s of others) assert.ok(!(await relatedOf(s)).includes(victim.href), `${s} still names the removed post`);
  assert.ok(others.some((s) => relatedBefore[s].includes(victim.href)), 'some post named it as related');
  const updated = [newerSlug, olderSlug, ...(await relatedChanged(relatedBefore, [newerSlug, olderSlug]))];
  assert.deepEqual(sorted(changes(res.stdout)), sorted([['removed', slug], ...updated.map((s) => ['updated', s])]));
  const files = await slugsOnDisk();
  assert.deepEqual(summary(res.stdout), { added: 0, updated: updated.length, removed: 1, unchanged: files.length - updated.length, index: 'written' });

  const after = await listing();
  assert.deepEqual(after, before.filter((p) => p.href !== victim.href), 'the same list without it');
  const index = await getIndex(site);
  assert.ok(!index.popular.some((p) => p.href === victim.href), 'not in Popular Reads');
  const gone = await get(`${site.base}${victim.href}`);
  assert.equal(gone.status, 404);
  assert.match(gone.body, /Page not found/);
});

test('broken front matter fails the sync with file:line and writes nothing, not even valid edits', async () => {
  const { posts } = await getIndex(site);
  const edited = posts[0];
  const broken = posts[3];
  const editedFile = path.join(site.contentDir, `${edited.href.split('/').pop()}.md`);
  const brokenFile = path.join(site.contentDir, `${broken.href.split('/').pop()}.md`);
  const beforeListing = await listing();
  const beforeBody = await postBody(edited.href);
  const original = await fs.readFile(brokenFile, 'utf8');

  // A valid edit that a successful sync would publish...
  const sentence = marker('unpublished');
  await fs.appendFile(editedFile, `\n${sentence}\n`);
  // ...and, in another post, no summary.
  const withoutSummary = original.replace(/^summary = .*\n/m, '');
  assert.notEqual(withoutSummary, original);
  await fs.writeFile(brokenFile, withoutSummary);

  const res = await site.sync();
  assert.notEqual(res.code, 0, 'sync fails');
  const diag = new RegExp(`^${brokenFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+): error: (.*)$`, 'm').exec(res.stderr);
  assert.ok(diag, `a file:line: error: diagnostic for ${brokenFile} in:\n${res.stderr}`);
  const closingFence = withoutSummary.split('\n').indexOf('+++', 1) + 1;
  const line = Number(diag[1]);
  assert.ok(line >= 1 && line <= closingFence, `line ${line} is within the front matter (lines 1-${closingFence})`);
  assert.match(diag[2], /summary/, 'the message names the missing field');
  assert.deepEqual(changes(res.stdout), [], 'no post written');
  assert.doesNotMatch(res.stdout, /index written/);
  assert.doesNotMatch(res.stderr, new RegExp(path.basename(editedFile).replace('.', '\\.') + ':\\d+'), 'the valid post is not blamed');

  // `blog check` reports the same and also fails.
  const check = await site.check();
  assert.equal(check.code, 1);
  assert.ok(check.stderr.includes(diag[0]), `check prints the same diagnostic:\n${check.stderr}`);

  // Nothing changed for readers.
  assert.deepEqual(await listing(), beforeListing, 'the index is unchanged');
  assert.equal(await postBody(edited.href), beforeBody, 'the valid edit was not published');
  const brokenPage = await get(`${site.base}${broken.href}`);
  assert.equal(brokenPage.status, 200, 'the broken post still serves its last good version');

  // Control: once fixed, the same sync publishes the valid edit.
  await fs.writeFile(brokenFile, original);
  const fixed = await site.sync();
  assert.equal(fixed.code, 0, fixed.stderr);
  assert.deepEqual(changes(fixed.stdout), [['updated', edited.href.split('/').pop()]]);
  assert.ok((await postBody(edited.href)).includes(sentence));
});

test('two syncs started together never interleave: the site shows one of them whole', async () => {
  // Two content folders that differ, as a CI job's checkout and the author's laptop might:
  // each adds a post of its own and edits the same post its own way.
  const { posts } = await getIndex(site);
  const edited = posts[1].href;
  const editedFile = path.join(site.contentDir, `${edited.split('/').pop()}.md`);
  const original = await fs.readFile(editedFile, 'utf8');
  const folders = {};
  for (const who of ['ci', 'laptop']) {
    const dir = await tempDir(`blog-e2e-two-syncs-${who}-`);
    await fs.cp(site.contentDir, dir, { recursive: true });
    await fs.writeFile(
      path.join(dir, `e2e-two-syncs-${who}.md`),
      `+++\ntitle = "Written on the ${who}"\ndate = 2020-01-0${who === 'ci' ? 1 : 2}\nsummary = "One of two syncs."\n+++\n\nFrom the ${who}.\n`,
    );
    await fs.writeFile(path.join(dir, path.basename(editedFile)), `${original}\n${marker(who)} ${who}-edit\n`);
    folders[who] = dir;
  }
  const both = Object.entries(folders).map(([who, dir]) =>
    site.sync(['--content', dir]).then((res) => ({ who, ...res, ended: Date.now() })),
  );
  // Readers meanwhile: the front page never lists both syncs' posts at once.
  let syncing = true;
  const seen = new Set();
  const readers = (async () => {
    while (syncing) {
      const hrefs = (await getIndex(site)).posts.map((p) => p.href);
      const ours = ['ci', 'laptop'].filter((w) => hrefs.includes(`/posts/e2e-two-syncs-${w}`));
      assert.ok(ours.length <= 1, `the front page lists both syncs' posts: ${ours}`);
      seen.add(ours.join() || 'neither');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  const results = await Promise.all(both).finally(() => (syncing = false));
  await readers;
  for (const r of results) assert.equal(r.code, 0, `${r.who}: ${r.stderr}`);
  const waited = results.filter((r) => /Waiting for another sync to finish \(`blog sync` on .+, process \d+, since /.test(r.stderr));
  assert.equal(waited.length, 1, `exactly one sync waits for the other:\n${results.map((r) => `${r.who}: ${r.stderr}`).join('\n')}`);
  const [last] = waited;
  const first = results.find((r) => r !== last);
  assert.ok(last.ended >= first.ended, 'the one that waited finished second');

  // The site is the second sync's whole: its post, its edit, and nothing of the first.
  const hrefs = (await getIndex(site)).posts.map((p) => p.href);
  assert.ok(hrefs.includes(`/posts/e2e-two-syncs-${last.who}`), `${last.who}'s post is listed`);
  assert.ok(!hrefs.includes(`/posts/e2e-two-syncs-${first.who}`), `${first.who}'s post is not listed`);
  assert.equal((await get(`${site.base}/posts/e2e-two-syncs-${first.who}`)).status, 404, `${first.who}'s post is gone from KV too`);
  assert.ok((await postBody(edited)).includes(`${last.who}-edit`), 'the edit shown is the second sync\'s');
  assert.ok(!(await postBody(edited)).includes(`${first.who}-edit`));
  console.log(`  ${first.who} synced first, ${last.who} waited; the front page showed: ${[...seen].join(', ')}`);

  // Put the site back to its own content for whatever runs next.
  const back = await site.sync();
  assert.equal(back.code, 0, back.stderr);
});
