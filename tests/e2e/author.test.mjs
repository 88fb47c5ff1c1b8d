// The author's side on the real `blog` binary: a new post is a draft that never blocks a
// check or a sync, what only publishing needs turns from a warning into an error at its
// own line.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BLOG, removeTemp, run, tempDir } from './harness.mjs';

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
