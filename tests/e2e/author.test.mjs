// The author's side on the real `blog` binary: a new post is a draft that never blocks a
// check or a sync, what only publishing needs turns from a warning into an error at its
// own line.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BLOG, removeTemp, run, startSite, tempDir } from './harness.mjs';

const temps = [];
after(async () => {
  for (const dir of temps) await removeTemp(dir);
});

async function temp(prefix) {
  const dir = await tempDir(prefix);
  temps.push(dir);
  return dir;
}

describe('drafts never block', () => {
  test('blog new, then blog check and blog sync succeed with a warning at the summary line', async () => {
    const dir = await temp('blog-author-new-');
    const state = await temp('blog-author-state-');
    const made = await run(BLOG, ['new', 'A Post Not Yet Written', '--content', dir]);
    assert.equal(made.code, 0, made.stderr);
    const file = made.stdout.trim();
    const lines = (await fs.readFile(file, 'utf8')).split('\n');
    const summaryLine = lines.indexOf('summary = ""') + 1;
    assert.ok(summaryLine > 1, lines.join('\n'));

    const check = await run(BLOG, ['check', '--content', dir]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${summaryLine}: warning: \`summary\` is empty`));
    assert.doesNotMatch(check.stderr, /: error:|has no `summary`/);
    assert.match(check.stdout, /1 posts OK \(1 drafts, 1 warnings\)/);

    const sync = await run(BLOG, ['sync', '--content', dir, '--persist-to', state]);
    assert.equal(sync.code, 0, sync.stdout + sync.stderr);
    assert.match(sync.stderr, /warning: `summary` is empty/);

    // Published, the same line is an error, and nothing is written.
    const text = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, text.replace('draft = true', 'draft = false'));
    const published = await run(BLOG, ['check', '--content', dir]);
    assert.equal(published.code, 1);
    assert.match(published.stderr, new RegExp(`:${summaryLine}: error: \`summary\` is empty`));
    const refused = await run(BLOG, ['sync', '--content', dir, '--persist-to', state]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /nothing (was )?written/i);
  });

  test('a draft with broken links and images warns; the same in a scheduled post stops the sync', async () => {
    const dir = await temp('blog-author-links-');
    const post = (extra, date = '2026-01-01') =>
      `+++\ntitle = "T"\ndate = ${date}\nsummary = "S."\n${extra}+++\n\nSee [x](/posts/missing).\n\n![A chart](chart.png)\n`;
    await fs.writeFile(path.join(dir, 'ok.md'), post(''));
    await fs.writeFile(path.join(dir, 'wip.md'), post('draft = true\nslug = "ok"\n'));
    const check = await run(BLOG, ['check', '--content', dir]);
    assert.equal(check.code, 1, 'ok.md links to nothing');
    assert.match(check.stderr, /ok\.md:7: error: the link to \/posts\/missing/);
    await fs.writeFile(path.join(dir, 'ok.md'), post('').replace(/See.*\n\n!.*\n/, 'Fine.\n'));
    const fixed = await run(BLOG, ['check', '--content', dir]);
    assert.equal(fixed.code, 0, fixed.stderr);
    for (const [line, says] of [[6, 'the slug `ok` is already used by'], [9, 'the link to /posts/missing'], [11, 'the image chart.png does not exist']]) {
      assert.ok(fixed.stderr.includes(`wip.md:${line}: warning: ${says}`), `${line}: ${fixed.stderr}`);
    }
    // Scheduled: published by the sync that writes it, so it must be whole now.
    await fs.writeFile(path.join(dir, 'wip.md'), post('slug = "later"\n', '2999-01-01'));
    const scheduled = await run(BLOG, ['check', '--content', dir]);
    assert.equal(scheduled.code, 1);
    assert.match(scheduled.stderr, /wip\.md:8: error: the link to \/posts\/missing/);
  });
});

describe('YAML front matter beside TOML, and drafts marked in local dev', () => {
  let site;
  after(async () => {
    if (site) await site.stop();
  });

  test('a YAML post and a TOML post are served alike; a draft synced with --drafts says so', async () => {
    const dir = await temp('blog-author-yaml-');
    await fs.writeFile(
      path.join(dir, 'from-jekyll.md'),
      '---\ntitle: "From Jekyll: colons and all"\ndate: 2026-03-01 09:30:00 +0200\nsummary: >\n  Written in YAML,\n  folded.\ntags:\n  - yaml\n  - Rust\naliases: [/2026/03/01/from-jekyll.html]\n---\n\nA YAML post links to [the TOML one](/posts/in-toml).\n',
    );
    await fs.writeFile(
      path.join(dir, 'in-toml.md'),
      '+++\ntitle = "In TOML"\ndate = 2026-02-01\nsummary = "Written in TOML."\ntags = ["rust"]\n+++\n\nA TOML post.\n',
    );
    await fs.writeFile(
      path.join(dir, 'unfinished.md'),
      '---\ntitle: Unfinished\ndate: 2026-04-01\nsummary: ""\ndraft: true\n---\n\nNot yet.\n',
    );
    const check = await run(BLOG, ['check', '--content', dir]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stderr, /unfinished\.md:4: warning: `summary` is empty: .*`summary: "One line/);
    assert.match(check.stdout, /3 posts OK \(1 drafts, 1 warnings\)/);

    site = await startSite({ contentDir: dir, syncArgs: ['--drafts'] });
    const yaml = await fetch(`${site.base}/posts/from-jekyll`);
    assert.equal(yaml.status, 200);
    const html = await yaml.text();
    assert.match(html, /<h1>From Jekyll: colons and all<\/h1>/);
    assert.match(html, /<time datetime="2026-03-01T07:30:00[^"]*">/);
    assert.match(html, /href="\/tags\/yaml"/);
    assert.doesNotMatch(html, /draft-note/);
    const old = await fetch(`${site.base}/2026/03/01/from-jekyll.html`, { redirect: 'manual' });
    assert.equal(old.status, 301);
    assert.equal(new URL(old.headers.get('location'), site.base).pathname, '/posts/from-jekyll');
    const index = await (await fetch(`${site.base}/`)).text();
    assert.match(index, /Written in YAML, folded\./);
    assert.match(index, /Written in TOML\./);
    // The draft is shown, and marked, in local dev.
    const draft = await fetch(`${site.base}/posts/unfinished`);
    assert.equal(draft.status, 200);
    assert.match(await draft.text(), /<p class="draft-note" role="note"><strong>Draft<\/strong>/);
    assert.match(index, /<a href="\/posts\/unfinished">Unfinished<\/a> <span class="draft">Draft<\/span>/);
    // Without --drafts, it is gone.
    const plain = await site.sync();
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal((await fetch(`${site.base}/posts/unfinished`)).status, 404);
  });
});
