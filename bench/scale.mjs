// Section 8: the blog at 8, 2,000 and 10,000 posts. For each size, what a cold request of
// each page kind costs (a fresh workerd, so a fresh isolate, for every request): its HTML's
// gzip size, the KV reads and KV bytes it needed, its round trips to KV (from its latency
// under a KV that waits 50 ms before every read), and its time with an instant KV (wasm
// start, KV reads in memory, rendering: the cold request's CPU, measured as wall time). And
// the author's side at that size: `blog check`, a first sync, a sync with nothing changed,
// one after editing one post (with the real local KV, through wrangler).
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { writePosts } from './content.mjs';
import { BLOG, OUT, ROOT, runOk } from './proc.mjs';
import { prepareBlogDir, workerdBlog } from './servers.mjs';
import { median } from './stats.mjs';
import { cardsLine } from './sync.mjs';

export const SIZES = (process.env.BENCH_SCALE ?? '8,2000,10000').split(',').map(Number);
/** What the slow KV waits before each read. */
export const KV_DELAY_MS = 50;
/** Cold requests per page kind and size, for the time with an instant KV. */
const COLD_RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 3);
const NAMESPACE = /^id\s*=\s*"([^"]+)"/m.exec(fs.readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8'))[1];

async function timed(cmd, args, options) {
  const started = process.hrtime.bigint();
  const result = await runOk(cmd, args, options);
  return { ...result, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** The content folder for `count` posts: the real one for 8, generated ones otherwise. */
async function contentFor(count) {
  if (count === 8) return path.join(ROOT, 'content');
  const dir = path.join(OUT, 'scale', String(count), 'content');
  fs.rmSync(dir, { recursive: true, force: true });
  await writePosts(dir, count, { bytes: 6000 });
  return dir;
}

/** Sync figures at this size, into a fresh local KV; the records it wrote as kv.json. */
async function syncAt(count, contentDir) {
  const stateDir = path.join(OUT, 'scale', String(count), 'state');
  fs.rmSync(stateDir, { recursive: true, force: true });
  const sync = () => timed(BLOG, ['sync', '--content', contentDir, '--persist-to', stateDir], { cwd: ROOT });
  const check = await timed(BLOG, ['check', '--content', contentDir], { cwd: ROOT });
  const first = await sync();
  const again = await sync();
  let edit = null;
  if (count !== 8) {
    const files = fs.readdirSync(contentDir).sort();
    const file = path.join(contentDir, files[Math.floor(files.length / 2)]);
    const text = fs.readFileSync(file, 'utf8');
    fs.appendFileSync(file, '\nOne more paragraph, added by the benchmark.\n');
    edit = await sync();
    fs.writeFileSync(file, text);
    await sync();
  }
  const kvJson = path.join(OUT, 'scale', String(count), 'kv.json');
  await runOk('node', [path.join(ROOT, 'bench/kv-export.mjs'), stateDir, NAMESPACE, kvJson], { cwd: ROOT });
  return {
    check: check.seconds,
    first: first.seconds,
    again: again.seconds,
    againWrote: !/^Nothing to write\.$/m.test(again.stdout),
    edit: edit?.seconds ?? null,
    // The social cards each sync drew, and how long drawing took (timed by sync, apart).
    cards: { first: cardsLine(first.stdout), again: cardsLine(again.stdout), edit: edit ? cardsLine(edit.stdout) : null },
    kvJson,
    kvBytes: fs.statSync(kvJson).size,
  };
}

/** The page of each kind a reader of this site asks for. */
async function pagesOf(base) {
  const home = await (await fetch(`${base}/`)).text();
  const posts = [...home.matchAll(/<h3><a href="(\/posts\/[^"]+)"/g)].map((m) => m[1]);
  const post = posts[Math.floor(posts.length / 2)];
  const page = await (await fetch(`${base}${post}`)).text();
  const tag = /<ul class="tags"[^>]*>\s*<li><a href="([^"]+)"/.exec(page)?.[1];
  const year = /<time datetime="(\d{4})-/.exec(page)?.[1];
  return { front: '/', post, archive: '/archive', year: `/${year}/`, tag, feed: '/feed.xml' };
}

async function coldRequest(site, pagePath, delayMs) {
  await site.restart();
  await fetch(`${site.admin}/__bench/delay?ms=${delayMs}`, { method: 'PUT' });
  await fetch(`${site.admin}/__bench/reads`);
  const started = process.hrtime.bigint();
  const res = await fetch(`${site.base}${pagePath}`);
  const body = Buffer.from(await res.arrayBuffer());
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const kv = await (await fetch(`${site.admin}/__bench/reads`)).json();
  if (res.status !== 200) throw new Error(`scale: GET ${pagePath} answered ${res.status}`);
  return { ms, kv, gzip: gzipSync(body).length };
}

/** Every figure of section 8, size by size. `progress` prints a line as each step starts. */
export async function scaleFigures({ bundleDir, date, progress }) {
  const rows = [];
  for (const count of SIZES) {
    progress(`scale: ${count} posts: content, check and syncs`);
    const contentDir = await contentFor(count);
    const sync = await syncAt(count, contentDir);
    progress(`scale: ${count} posts: cold requests on workerd`);
    const dir = prepareBlogDir(`scale-${count}`, { bundleDir, kvJson: sync.kvJson, date });
    const site = await workerdBlog({ name: `scale-${count}`, dir, readyPath: '/style.css' });
    try {
      // Found with a warm isolate; every figure after this is a fresh one.
      const pages = await pagesOf(site.base);
      const kinds = {};
      for (const [kind, pagePath] of Object.entries(pages)) {
        const runs = [];
        for (let i = 0; i < COLD_RUNS; i++) runs.push(await coldRequest(site, pagePath, 0));
        const slow = await coldRequest(site, pagePath, KV_DELAY_MS);
        const ms = median(runs.map((r) => r.ms));
        kinds[kind] = {
          path: pagePath,
          gzip: runs[0].gzip,
          reads: runs[0].kv.reads,
          kvBytes: runs[0].kv.bytes,
          ms,
          roundTrips: Math.max(0, Math.round((slow.ms - ms) / KV_DELAY_MS)),
        };
      }
      rows.push({ count, sync, kinds });
    } finally {
      await site.stop();
    }
  }
  return rows;
}
