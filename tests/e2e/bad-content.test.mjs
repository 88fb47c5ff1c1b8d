// Bad content never reaches KV: for each kind of broken post, `blog check` and `blog sync`
// both fail, name the file and line and say what to do, and the local KV they would have
// written holds no key at all. A warning is reported but does not stop a sync.
// Each case: the project's content/ plus one bad post, synced into its own fresh state folder.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BLOG, run } from './harness.mjs';
import { contentWith, kvKeys, postText, removeTemp, tempDir } from './support.mjs';

const MiB = 1024 * 1024;
const made = [];
after(async () => {
  for (const dir of made) await removeTemp(dir);
});

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A content folder with the project's posts plus `files`, and a fresh state folder. */
async function setup(files) {
  const contentDir = await contentWith(files);
  const stateDir = await tempDir('blog-e2e-bad-state-');
  made.push(contentDir, stateDir);
  return { contentDir, stateDir };
}

async function checkAndSync(contentDir, stateDir) {
  const check = await run(BLOG, ['check', '--content', contentDir]);
  const sync = await run(BLOG, ['sync', '--content', contentDir, '--persist-to', stateDir]);
  return { check, sync };
}

const post = (fields, body = 'Body.') => `+++\n${fields}+++\n\n${body}\n`;
const GOOD_FIELDS = 'title = "A Bad Post"\ndate = 2026-01-01\nsummary = "S."\n';

/**
 * name, file name, its bytes, and the line and advice the error must carry.
 * The bad file sorts after every project post, so a clash is reported on it.
 */
const CASES = [
  ['no front matter', 'zz-bad.md', '# Just Markdown\n\nNo front matter here.\n', 1, /no front matter: a post starts with a line `\+\+\+`/],
  ['YAML front matter without a date', 'zz-bad.md', '---\ntitle: x\nsummary: s\n---\n\nBody.\n', 1, /no `date`: add a line such as `date: 2026-06-14`/],
  ['YAML field of the wrong type', 'zz-bad.md', '---\ntitle: x\ndate: 2026-01-01\nsummary: s\ntags: rust\n---\n\nBody.\n', 5, /`tags` must be a list of strings/],
  ['invalid YAML', 'zz-bad.md', '---\ntitle: x\ndate: 2026-01-01\nsummary: "s\ntags: [a]\n---\n\nBody.\n', 4, /not valid YAML: /],
  ['unterminated YAML front matter', 'zz-bad.md', '---\ntitle: x\ndate: 2026-01-01\n\nBody.\n', 1, /never closed: add a line `---`/],
  ['unterminated front matter', 'zz-bad.md', '+++\ntitle = "x"\ndate = 2026-01-01\nsummary = "s"\n\nBody.\n', 1, /never closed: add a line `\+\+\+`/],
  ['invalid TOML', 'zz-bad.md', post('title = "x"\ndate = 2026-01-01\nsummary = oops\n'), 4, /not valid TOML: .*quoted/],
  ['missing title', 'zz-bad.md', post('date = 2026-01-01\nsummary = "s"\n'), 1, /no `title`: add a line such as `title = /],
  ['missing date', 'zz-bad.md', post('title = "x"\nsummary = "s"\n'), 1, /no `date`: add a line such as `date = 2026-06-14`/],
  ['missing summary', 'zz-bad.md', post('title = "x"\ndate = 2026-01-01\n'), 1, /no `summary`: add a line such as `summary = /],
  ['empty title', 'zz-bad.md', post('title = "  "\ndate = 2026-01-01\nsummary = "s"\n'), 2, /`title` is empty: name the post/],
  ['empty summary', 'zz-bad.md', post('title = "x"\ndate = 2026-01-01\nsummary = ""\n'), 4, /`summary` is empty: write the line/],
  ['impossible date (TOML date)', 'zz-bad.md', post('title = "x"\ndate = 2026-02-30\nsummary = "s"\n'), 3, /invalid date, expected day between 01 and 28/],
  ['impossible date (string)', 'zz-bad.md', post('title = "x"\ndate = "2026-02-30"\nsummary = "s"\n'), 3, /2026-02-30 is not a date: Feb has 28 days/],
  ['title of the wrong type', 'zz-bad.md', post('title = 42\ndate = 2026-01-01\nsummary = "s"\n'), 2, /`title` must be a string in quotes, but it is a number/],
  ['tags of the wrong type', 'zz-bad.md', post(`${GOOD_FIELDS}tags = "rust"\n`), 5, /`tags` must be a list of strings such as/],
  ['duplicate slug', 'zz-bad.md', post(`${GOOD_FIELDS}slug = "apple-native-container-cli"\n`), 5, /the slug `apple-native-container-cli` is already used by \S*apple-native-container-cli\.md: every post needs its own slug/],
  ['slug with ..', 'zz-bad.md', post(`${GOOD_FIELDS}slug = "../../etc/passwd"\n`), 5, /starts with a dot or contains `\.\.` \(change `slug`\)/],
  ['slug with ..  inside', 'zz-bad.md', post(`${GOOD_FIELDS}slug = "a..b"\n`), 5, /contains `\.\.` \(change `slug`\)/],
  ['slug with /', 'zz-bad.md', post(`${GOOD_FIELDS}slug = "a/b"\n`), 5, /contains '\/', which cannot be part of a URL path segment; use letters, digits.*\(change `slug`\)/],
  ['slug with a space', 'zz-bad.md', post(`${GOOD_FIELDS}slug = "a b"\n`), 5, /contains ' ', which cannot be part of a URL path segment.*\(change `slug`\)/],
  ['slug with a control character', 'zz-bad.md', post(`${GOOD_FIELDS}slug = "a\\u0007b"\n`), 5, /contains '\\u\{7\}', which cannot be part of a URL path segment.*\(change `slug`\)/],
  ['file name that is no slug', 'zz bad name.md', post(GOOD_FIELDS), 1, /contains ' '.*\(rename the file or set `slug`\)/],
  ['not UTF-8', 'zz-bad.md', Buffer.concat([Buffer.from(`+++\n${GOOD_FIELDS}+++\n\nFine line.\nLatin-1: caf`), Buffer.from([0xe9, 0x0a])]), 8, /not valid UTF-8: save it as UTF-8 text/],
  ['empty body', 'zz-bad.md', `+++\n${GOOD_FIELDS}+++\n\n   \n`, 5, /no body: write the post's Markdown after the closing `\+\+\+`/],
];

describe('a bad post stops check and sync, and nothing is written', () => {
  for (const [name, file, text, line, advice] of CASES) {
    test(name, async () => {
      const { contentDir, stateDir } = await setup({ [file]: text });
      const { check, sync } = await checkAndSync(contentDir, stateDir);
      const where = new RegExp(`${escapeRe(path.join(contentDir, file))}:${line}: error: `);
      for (const [cmd, r] of [['check', check], ['sync', sync]]) {
        assert.notEqual(r.code, 0, `${cmd} succeeded:\n${r.stdout}${r.stderr}`);
        assert.match(r.stderr, where, `${cmd} did not name ${file}:${line}:\n${r.stderr}`);
        assert.match(r.stderr, advice, `${cmd} did not say what to do:\n${r.stderr}`);
        assert.match(r.stderr, /nothing was written/, cmd);
      }
      assert.deepEqual(await kvKeys(stateDir), [], 'sync wrote keys');
    });
  }

  test('a post over 25 MiB', async () => {
    // 26 MiB of Markdown, far more than KV's 25 MiB per value.
    const lines = 'A line of a very long post, repeated until it is too big.\n'.repeat(Math.ceil((26 * MiB) / 58));
    const { contentDir, stateDir } = await setup({ 'zz-huge.md': post(GOOD_FIELDS, lines) });
    const { check, sync } = await checkAndSync(contentDir, stateDir);
    // The body starts right after the closing `+++` (line 5): the error points there.
    const where = new RegExp(`${escapeRe(path.join(contentDir, 'zz-huge.md'))}:6: error: the post is 2[56](\\.\\d)? MiB once stored; Workers KV holds at most 25 MiB per value: split it`);
    for (const [cmd, r] of [['check', check], ['sync', sync]]) {
      assert.notEqual(r.code, 0, cmd);
      assert.match(r.stderr, where, `${cmd}:\n${r.stderr.slice(0, 2000)}`);
    }
    assert.deepEqual(await kvKeys(stateDir), []);
  });

  test('key metadata over 1024 bytes (a file name of control characters)', async () => {
    // File names stop at 255 bytes, but JSON writes each control character as \u00XX:
    // 200 of them make the {hash, file} metadata 1,200+ bytes.
    const file = `${'\x01'.repeat(200)}.md`;
    const { contentDir, stateDir } = await setup({ [file]: post(`${GOOD_FIELDS}slug = "control-file-name"\n`) });
    const { check, sync } = await checkAndSync(contentDir, stateDir);
    for (const [cmd, r] of [['check', check], ['sync', sync]]) {
      assert.notEqual(r.code, 0, `${cmd} succeeded:\n${r.stdout}${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${escapeRe(path.join(contentDir, file))}:1: error: its key metadata is \\d+ bytes; Workers KV allows 1024: use a shorter file name`), `${cmd}:\n${r.stderr}`);
    }
    assert.deepEqual(await kvKeys(stateDir), []);
  });

  test('aliases over 25 MiB (270 posts with 100 KB of aliases each)', async () => {
    // No record holds every post any more but the aliases, which hold every old path.
    const files = {};
    for (let i = 0; i < 270; i++) {
      const count = i === 137 ? 51 : 50;
      const aliases = Array.from({ length: count }, (_, j) => `/old/${i}/${j}/${'a'.repeat(2000)}`);
      files[`zz-moved-${String(i).padStart(3, '0')}.md`] = postText({ title: `Moved ${i}`, date: '2026-01-01', extra: `aliases = ${JSON.stringify(aliases)}\n` });
    }
    const { contentDir, stateDir } = await setup(files);
    const { check, sync } = await checkAndSync(contentDir, stateDir);
    // Reported at the aliases line of the post whose aliases are the longest.
    const where = new RegExp(`${escapeRe(path.join(contentDir, 'zz-moved-137.md'))}:5: error: the aliases of \\d+ posts take 2[5-9](\\.\\d)? MiB; Workers KV holds at most 25 MiB per value: drop old aliases`);
    for (const [cmd, r] of [['check', check], ['sync', sync]]) {
      assert.notEqual(r.code, 0, `${cmd} succeeded:\n${r.stdout}${r.stderr.slice(0, 2000)}`);
      assert.match(r.stderr, where, `${cmd}:\n${r.stderr.slice(0, 2000)}`);
    }
    assert.deepEqual(await kvKeys(stateDir), []);
  });

  test('summaries of 100 KB each on 270 posts are fine: no record holds them all', async () => {
    const summary = 'A summary far longer than any reader wants. '.repeat(Math.ceil((100 * 1024) / 44));
    const files = {};
    for (let i = 0; i < 270; i++) files[`zz-long-${String(i).padStart(3, '0')}.md`] = postText({ title: `Long ${i}`, summary, date: '2026-01-01' });
    const { contentDir } = await setup(files);
    const check = await run(BLOG, ['check', '--content', contentDir]);
    assert.equal(check.code, 0, check.stderr.slice(0, 2000));
  });
});

describe('warnings do not stop a sync', () => {
  test('an unknown field is reported with file:line, and the post is published', async () => {
    const file = 'zz-unknown-field.md';
    const { contentDir, stateDir } = await setup({ [file]: post(`${GOOD_FIELDS}categories = ["x"]\n`) });
    const { check, sync } = await checkAndSync(contentDir, stateDir);
    const where = new RegExp(`${escapeRe(path.join(contentDir, file))}:5: warning: unknown field \`categories\` is ignored \\(known fields: title, date, summary`);
    for (const [cmd, r] of [['check', check], ['sync', sync]]) {
      assert.equal(r.code, 0, `${cmd} failed:\n${r.stdout}${r.stderr}`);
      assert.match(r.stderr, where, cmd);
    }
    assert.match(check.stdout, /9 posts OK \(0 drafts, 1 warnings\)/);
    const names = (await kvKeys(stateDir)).map((k) => k.name);
    assert.ok(names.includes('post/zz-unknown-field'), names.join(' '));
  });
});

describe('the emptiness check can see writes', () => {
  test('a good post added to the same content syncs, and the key listing shows every key', async () => {
    const { contentDir, stateDir } = await setup({ 'zz-good.md': post(GOOD_FIELDS) });
    const { check, sync } = await checkAndSync(contentDir, stateDir);
    assert.equal(check.code, 0, check.stderr);
    assert.equal(sync.code, 0, sync.stderr);
    assert.equal(check.stderr, '', 'a clean check prints no diagnostics');
    const names = (await kvKeys(stateDir)).map((k) => k.name).sort();
    const posts = (await fs.readdir(contentDir)).map((f) => `post/${f.replace(/\.md$/, '')}`);
    const lists = names.filter((n) => n.startsWith('list/'));
    assert.deepEqual(names.filter((n) => !/^(list|search|file)\//.test(n)), ['aliases', ...posts, 'site', 'tags', 'version'].sort());
    // No post here shows a file: the files are the posts' social cards, one each.
    assert.equal(names.filter((n) => /^file\/[0-9a-f]{32}\.png$/.test(n)).length, posts.length, names.join(' '));
    // And the search index: its head, the doc table of the first 256 posts, term shards.
    const search = names.filter((n) => n.startsWith('search/'));
    assert.ok(['search/head', 'search/d/0'].every((k) => search.includes(k)) && search.some((k) => k.startsWith('search/t/')), search.join(' '));
    // One record per list page: the front page, the feed, each year's and each tag's pages.
    for (const key of ['list/front', 'list/feed', 'list/sitemap/1', 'list/tag/rust/1', 'list/feed/rust']) {
      assert.ok(lists.includes(key), `${key} in ${lists.join(' ')}`);
    }
    assert.ok(lists.some((k) => /^list\/year\/\d{4}\/1$/.test(k)), lists.join(' '));
  });
});
