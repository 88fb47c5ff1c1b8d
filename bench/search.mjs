// Section 9 (BENCH_ONLY=search): search at 2,000 and 10,000 generated posts. For each size,
// `blog sync` with the search index and without it (BLOG_NO_SEARCH), interleaved, into fresh
// local KV: a first sync, three syncs with nothing changed and an edit of one post; then, over
// the records the sync wrote, the index's size in KV and what queries cost
// (crates/author/examples/search_bench.rs): the bytes each of their round trips reads and the
// native time of their work.
import fs from 'node:fs';
import path from 'node:path';
import { writePosts } from './content.mjs';
import { OUT, ROOT, runOk } from './proc.mjs';
import { syncsSideBySide } from './sync.mjs';

const SIZES = (process.env.BENCH_SEARCH_SIZES ?? '2000,10000').split(',').map(Number);
/** A three-word query of common words, one of rarer ones, a phrase, a tag, a typo. */
const QUERIES = ['build cache latency', 'durable object storage', '"key value store"', 'sqlite tag:rust', 'laytency'];
const NAMESPACE = /^id\s*=\s*"([^"]+)"/m.exec(fs.readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8'))[1];

function parse(stdout) {
  return [...stdout.matchAll(/^search_bench: (\w+) (.*)$/gm)].map((m) => {
    const row = { kind: m[1] };
    for (const [, k, v] of m[2].matchAll(/(\w+)=("[^"]*"|\S+)/g)) row[k] = v.startsWith('"') ? v.slice(1, -1) : Number(v);
    return row;
  });
}

/** Section 9's figures at every size. */
export async function searchFigures({ progress }) {
  await runOk('cargo', ['build', '--quiet', '--release', '-p', 'blog-author', '--example', 'search_bench'], { cwd: ROOT });
  const rows = [];
  for (const count of SIZES) {
    const contentDir = path.join(OUT, 'search', String(count), 'content');
    fs.rmSync(contentDir, { recursive: true, force: true });
    await writePosts(contentDir, count, { bytes: 6000 });
    const sync = await syncsSideBySide({
      name: 'search',
      count,
      contentDir,
      stateRoot: path.join(OUT, 'search', String(count)),
      kinds: { search: {}, without: { BLOG_NO_SEARCH: '1' } },
      paragraph: 'One more paragraph, added by the benchmark.',
      progress,
    });
    const kvJson = path.join(OUT, 'search', String(count), 'kv.json');
    progress(`search: ${count} posts, the queries`);
    await runOk('node', [path.join(ROOT, 'bench/kv-export.mjs'), sync.search.state, NAMESPACE, kvJson], { cwd: ROOT });
    const r = await runOk(path.join(ROOT, 'target/release/examples/search_bench'), [kvJson, ...QUERIES], { cwd: ROOT });
    const parsed = parse(r.stdout);
    rows.push({ count, sync, index: parsed.find((p) => p.kind === 'index'), queries: parsed.filter((p) => p.kind === 'query'), text: r.stdout });
  }
  return rows;
}

const kb = (b) => (b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : `${(b / 1e3).toFixed(1)} KB`);
const s = (x) => `${x.toFixed(2)} s`;
const pct = (a, b) => `${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(0)}%`;

/** Section 9's tables. */
export function searchLines(rows) {
  const out = [`9. Search at ${rows.map((r) => r.count.toLocaleString('en')).join(' and ')} generated posts`];
  out.push('', '| posts | index in KV | pieces | first sync with / without search | nothing changed (median of 3) | one post edited |', '|---|---|---|---|---|---|');
  for (const r of rows) {
    const { search: w, without: wo } = r.sync;
    out.push(
      `| ${r.count} | ${kb(r.index.bytes)} | ${r.index.pieces} | ${s(w.first)} / ${s(wo.first)} (${pct(w.first, wo.first)}) | ${s(w.again)} / ${s(wo.again)} (${pct(w.again, wo.again)}) | ${s(w.edit)} / ${s(wo.edit)} (${pct(w.edit, wo.edit)}) |`,
    );
  }
  out.push('', '| posts | query | matches | KV keys | bytes read: 1st / 2nd / 3rd round trip | native: match / whole page |', '|---|---|---|---|---|---|');
  for (const r of rows) {
    for (const q of r.queries) {
      out.push(`| ${r.count} | \`${q.text}\` | ${q.matches} | ${q.keys} | ${kb(q.bytes1)} / ${kb(q.bytes2)} / ${kb(q.bytes3)} | ${q.match_us.toFixed(0)} µs / ${q.page_us.toFixed(0)} µs |`);
    }
  }
  return out;
}
