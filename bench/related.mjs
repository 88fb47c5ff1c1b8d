// Section 10 (BENCH_ONLY=related): what related posts cost a sync. At 10,000 generated posts
// (BENCH_RELATED_SIZES), `blog sync` with each post's related posts and without them
// (BLOG_NO_RELATED), interleaved, into two fresh local KVs: a first sync, three syncs with
// nothing changed (median) and one after editing a post, with how many posts each edit sync
// rewrote (an edit may change other posts' related lists).
import fs from 'node:fs';
import path from 'node:path';
import { writePosts } from './content.mjs';
import { BLOG, ENV, OUT, ROOT, runOk } from './proc.mjs';
import { median } from './stats.mjs';
import { changedPosts } from './sync.mjs';

const SIZES = (process.env.BENCH_RELATED_SIZES ?? '10000').split(',').map(Number);
const KINDS = { related: {}, without: { BLOG_NO_RELATED: '1' } };

async function timed(args, env) {
  const started = process.hrtime.bigint();
  const r = await runOk(BLOG, args, { cwd: ROOT, env: { ...ENV, ...env } });
  return { ...r, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function syncs(count, contentDir, progress) {
  const out = {};
  const state = (kind) => path.join(OUT, 'related', String(count), `state-${kind}`);
  for (const kind of Object.keys(KINDS)) fs.rmSync(state(kind), { recursive: true, force: true });
  const sync = (kind) => timed(['sync', '--content', contentDir, '--persist-to', state(kind)], KINDS[kind]);
  for (const kind of Object.keys(KINDS)) {
    progress(`related: ${count} posts, first sync (${kind})`);
    out[kind] = { first: (await sync(kind)).seconds, again: [], edit: null, rewrote: 0 };
  }
  progress(`related: ${count} posts, syncs with nothing changed, then one edit`);
  for (let i = 0; i < 3; i++) {
    for (const kind of Object.keys(KINDS)) {
      const r = await sync(kind);
      if (!/^Nothing to write\.$/m.test(r.stdout)) throw new Error(`related: a sync with nothing changed (${kind}) wrote:\n${r.stdout}`);
      out[kind].again.push(r.seconds);
    }
  }
  const files = fs.readdirSync(contentDir).sort();
  const file = path.join(contentDir, files[Math.floor(files.length / 2)]);
  const text = fs.readFileSync(file, 'utf8');
  fs.appendFileSync(file, '\nOne more paragraph about the build cache and the edge, added by the benchmark.\n');
  for (const kind of Object.keys(KINDS)) {
    const r = await sync(kind);
    out[kind].edit = r.seconds;
    out[kind].rewrote = changedPosts(r.stdout).length;
  }
  fs.writeFileSync(file, text);
  for (const kind of Object.keys(KINDS)) await sync(kind);
  for (const kind of Object.keys(KINDS)) out[kind].again = median(out[kind].again);
  return out;
}

/** Section 10's figures at every size. */
export async function relatedFigures({ progress }) {
  const rows = [];
  for (const count of SIZES) {
    const contentDir = path.join(OUT, 'related', String(count), 'content');
    fs.rmSync(contentDir, { recursive: true, force: true });
    await writePosts(contentDir, count, { bytes: 6000 });
    rows.push({ count, ...(await syncs(count, contentDir, progress)) });
  }
  return rows;
}

const s = (x) => `${x.toFixed(2)} s`;
const times = (a, b) => `${(a / b).toFixed(2)}x`;

/** Section 10's table. */
export function relatedLines(rows) {
  const out = [`10. Related posts: blog sync with them and without (BLOG_NO_RELATED), ${rows.map((r) => r.count.toLocaleString('en')).join(' and ')} generated posts`];
  out.push('', '| posts | first sync with / without | nothing changed (median of 3) | one post edited | posts the edit rewrote |', '|---|---|---|---|---|');
  for (const { count, related: w, without: wo } of rows) {
    out.push(
      `| ${count} | ${s(w.first)} / ${s(wo.first)} (${times(w.first, wo.first)}) | ${s(w.again)} / ${s(wo.again)} (${times(w.again, wo.again)}) | ${s(w.edit)} / ${s(wo.edit)} (${times(w.edit, wo.edit)}) | ${w.rewrote} / ${wo.rewrote} |`,
    );
  }
  return out;
}
