// Section 10 (BENCH_ONLY=related): what related posts cost a sync. At 10,000 generated posts
// (BENCH_RELATED_SIZES), `blog sync` with each post's related posts and without them
// (BLOG_NO_RELATED), interleaved, into two fresh local KVs: a first sync, three syncs with
// nothing changed (median) and one after editing a post, with how many posts each edit sync
// rewrote (an edit may change other posts' related lists).
import fs from 'node:fs';
import path from 'node:path';
import { writePosts } from './content.mjs';
import { OUT } from './proc.mjs';
import { syncsSideBySide } from './sync.mjs';

const SIZES = (process.env.BENCH_RELATED_SIZES ?? '10000').split(',').map(Number);
const KINDS = { related: {}, without: { BLOG_NO_RELATED: '1' } };

/** Section 10's figures at every size. */
export async function relatedFigures({ progress }) {
  const rows = [];
  for (const count of SIZES) {
    const contentDir = path.join(OUT, 'related', String(count), 'content');
    fs.rmSync(contentDir, { recursive: true, force: true });
    await writePosts(contentDir, count, { bytes: 6000 });
    rows.push({
      count,
      ...(await syncsSideBySide({
        name: 'related',
        count,
        contentDir,
        stateRoot: path.join(OUT, 'related', String(count)),
        kinds: KINDS,
        paragraph: 'One more paragraph about the build cache and the edge, added by the benchmark.',
        progress,
      })),
    });
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
