// `blog check` and `blog sync` on a site of 2,000 generated posts: how long check takes, and
// that sync writes only what changed (asserted from what it prints).
import fs from 'node:fs';
import path from 'node:path';
import { writePosts } from './content.mjs';
import { BLOG, ENV, OUT, ROOT, WRANGLER, run, runOk } from './proc.mjs';
import { median } from './stats.mjs';

const CHECK_RUNS = 15;

/**
 * Per-post lines of a sync report, [["updated", "slug"], ...]: the lines after "Syncing …"
 * up to the blank line before the totals table.
 */
export function changedPosts(stdout) {
  const start = stdout.indexOf('\n', stdout.indexOf('Syncing ')) + 1;
  const end = stdout.indexOf('\n\n', start - 1);
  const block = stdout.slice(start, end === -1 ? undefined : end);
  return [...block.matchAll(/^ {2}(added|updated|removed)\s+(\S+)$/gm)].map((m) => [m[1], m[2]]);
}

/** Runs the blog CLI with `args` (and `env` over the bench's own), timing it. */
async function timed(args, env) {
  const started = process.hrtime.bigint();
  const r = await runOk(BLOG, args, { cwd: ROOT, env: { ...ENV, ...env } });
  return { ...r, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/**
 * `blog sync` of `contentDir` in each of `kinds` (name: the environment that makes it, such
 * as a feature left out), interleaved, each into its own fresh local KV under `stateRoot`:
 * a first sync, three with nothing changed (median; each must write nothing), then one
 * after appending `paragraph` to the middle post, which is then put back and synced.
 * Returns, by kind, { first, again, edit, rewrote (the posts the edit sync wrote), state }.
 */
export async function syncsSideBySide({ name, count, contentDir, stateRoot, kinds, paragraph, progress }) {
  const out = {};
  const state = (kind) => path.join(stateRoot, `state-${kind}`);
  for (const kind of Object.keys(kinds)) fs.rmSync(state(kind), { recursive: true, force: true });
  const sync = (kind) => timed(['sync', '--content', contentDir, '--persist-to', state(kind)], kinds[kind]);
  for (const kind of Object.keys(kinds)) {
    progress(`${name}: ${count} posts, first sync (${kind})`);
    out[kind] = { first: (await sync(kind)).seconds, again: [], edit: null, rewrote: 0, state: state(kind) };
  }
  progress(`${name}: ${count} posts, syncs with nothing changed, then one edit`);
  for (let i = 0; i < 3; i++) {
    for (const kind of Object.keys(kinds)) {
      const r = await sync(kind);
      if (!/^Nothing to write\.$/m.test(r.stdout)) throw new Error(`${name}: a sync with nothing changed (${kind}) wrote:\n${r.stdout}`);
      out[kind].again.push(r.seconds);
    }
  }
  const files = fs.readdirSync(contentDir).sort();
  const file = path.join(contentDir, files[Math.floor(files.length / 2)]);
  const text = fs.readFileSync(file, 'utf8');
  fs.appendFileSync(file, `\n${paragraph}\n`);
  for (const kind of Object.keys(kinds)) {
    const r = await sync(kind);
    out[kind].edit = r.seconds;
    out[kind].rewrote = changedPosts(r.stdout).length;
  }
  fs.writeFileSync(file, text);
  for (const kind of Object.keys(kinds)) await sync(kind);
  for (const kind of Object.keys(kinds)) out[kind].again = median(out[kind].again);
  return out;
}

/**
 * What a sync says of the social cards it drew: { rendered, seconds, text }. Drawing is
 * timed by sync itself, so the figure stands apart from the sync's own time.
 */
export function cardsLine(stdout) {
  const m = /^cards: (\d+) rendered in ([\d.]+) s.*$/m.exec(stdout);
  return m ? { rendered: Number(m[1]), seconds: Number(m[2]), text: m[0] } : { rendered: NaN, seconds: NaN, text: '(no cards line)' };
}

function summaryLine(stdout) {
  return /^\d+ added, \d+ updated, \d+ removed, \d+ unchanged; index \w+$/m.exec(stdout)?.[0] ?? '(no summary line)';
}

async function timeCheck(contentDir) {
  const hyperfine = await run('hyperfine', ['--version']).catch(() => ({ code: 1 }));
  if (hyperfine.code === 0) {
    const json = path.join(OUT, 'hyperfine-check.json');
    await runOk('hyperfine', [
      '--warmup', '2', '--runs', String(CHECK_RUNS), '-N', '--style', 'none', '--export-json', json,
      `${BLOG} check --content ${contentDir}`,
    ]);
    const result = JSON.parse(fs.readFileSync(json, 'utf8')).results[0];
    return { ms: result.median * 1000, min: result.min * 1000, max: result.max * 1000, how: `hyperfine, median of ${CHECK_RUNS} after 2 warm-ups` };
  }
  const times = [];
  for (let i = 0; i < CHECK_RUNS + 2; i++) {
    const r = await runOk(BLOG, ['check', '--content', contentDir]);
    if (i >= 2) times.push(r.ms);
  }
  return { ms: median(times), min: Math.min(...times), max: Math.max(...times), how: `median of ${CHECK_RUNS} runs after 2 warm-ups` };
}

/**
 * Generates `count` posts in `contentDir`, then: times `blog check`; a first `blog sync` into
 * `stateDir`; a sync with nothing changed (must write nothing); an edit of one post and a sync
 * (must write that post and the index, nothing else).
 */
export async function syncFigures({ contentDir, stateDir, count }) {
  const slugs = await writePosts(contentDir, count, { bytes: 6000 });
  const bytes = fs.readdirSync(contentDir).reduce((a, f) => a + fs.statSync(path.join(contentDir, f)).size, 0);
  const check = await timeCheck(contentDir);
  const sync = (args = []) => runOk(BLOG, ['sync', '--content', contentDir, '--persist-to', stateDir, ...args], { cwd: ROOT });

  const first = await sync();
  // Every generated post has no cover: each gets a card of its own.
  const firstOk =
    summaryLine(first.stdout) === `${count} added, 0 updated, 0 removed, 0 unchanged; index written` &&
    cardsLine(first.stdout).rendered === count;

  const again = await sync();
  const againOk =
    /^Nothing to write\.$/m.test(again.stdout) &&
    changedPosts(again.stdout).length === 0 &&
    summaryLine(again.stdout) === `0 added, 0 updated, 0 removed, ${count} unchanged; index unchanged` &&
    cardsLine(again.stdout).rendered === 0;

  // What sync sees of the namespace: the keys `wrangler kv key list` returns.
  const list = await runOk(WRANGLER, ['kv', 'key', 'list', '--binding', 'POSTS', '--local', '--persist-to', stateDir]);
  const listed = JSON.parse(list.stdout.slice(list.stdout.indexOf('['))).length;

  const edited = slugs[Math.floor(count / 2)];
  fs.appendFileSync(path.join(contentDir, `${edited}.md`), '\nOne more paragraph, added by the benchmark.\n');
  const edit = await sync();
  const changed = changedPosts(edit.stdout);
  const editOk =
    changed.length === 1 &&
    changed[0][0] === 'updated' &&
    changed[0][1] === edited &&
    summaryLine(edit.stdout) === `0 added, 1 updated, 0 removed, ${count - 1} unchanged; index written` &&
    // At most the edited post's card: none when its reading time stays the same.
    cardsLine(edit.stdout).rendered <= 1;

  return {
    count,
    bytes,
    slugs,
    check,
    first: { ms: first.ms, summary: summaryLine(first.stdout), ok: firstOk, cards: cardsLine(first.stdout) },
    again: { ms: again.ms, summary: summaryLine(again.stdout), ok: againOk, written: changedPosts(again.stdout).length, cards: cardsLine(again.stdout) },
    // Keys in the namespace: every post, the index and the version.
    keys: { stored: count + 2, listed },
    edit: { ms: edit.ms, summary: summaryLine(edit.stdout), changed, edited, ok: editOk, cards: cardsLine(edit.stdout) },
  };
}
