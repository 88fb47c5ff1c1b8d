// Read counts two ways: as readers see them (the reads.svg badge) and as the ReadCounter
// Durable Object stores them (its SQLite file, read with Python's sqlite3, read-only).
import fs from 'node:fs';
import path from 'node:path';
import { run, sleep } from './proc.mjs';

/** The count a post's badge shows, and whether it is a real count (not "no counts yet"). */
export async function badge(base, slug) {
  const res = await fetch(`${base}/posts/${slug}/reads.svg`, { signal: AbortSignal.timeout(10_000) });
  const svg = await res.text();
  const m = /aria-label="([\d,]+) reads?"/.exec(svg);
  if (res.status !== 200 || !m) throw new Error(`GET /posts/${slug}/reads.svg answered ${res.status}: ${svg.slice(0, 200)}`);
  return { reads: Number(m[1].replaceAll(',', '')), known: !/no-store/.test(res.headers.get('cache-control') ?? '') };
}

/**
 * Polls the badge until it shows `expected`, or shows the same real count for `stableMs`
 * (the worker refreshes counts every 10 s, so stable means unchanged across a refresh).
 * Resolves { reads, waitedMs, reason }.
 */
export async function pollBadge(base, slug, { expected = null, stableMs = 12_000, timeoutMs = 45_000 } = {}) {
  const started = Date.now();
  let last = null;
  let since = Date.now();
  while (Date.now() - started < timeoutMs) {
    const b = await badge(base, slug).catch(() => null);
    if (b?.known) {
      if (expected !== null && b.reads === expected) return { reads: b.reads, waitedMs: Date.now() - started, reason: 'expected' };
      if (b.reads !== last) {
        last = b.reads;
        since = Date.now();
      } else if (Date.now() - since >= stableMs) {
        return { reads: b.reads, waitedMs: Date.now() - started, reason: 'stable' };
      }
    }
    await sleep(500);
  }
  return { reads: last, waitedMs: Date.now() - started, reason: 'timeout' };
}

const PY = `
import glob, json, sqlite3, sys
out = {"batches": 0, "reads": {}}
for f in glob.glob(sys.argv[1] + "/*.sqlite"):
    if f.endswith("metadata.sqlite"):
        continue
    db = sqlite3.connect("file:" + f + "?mode=ro", uri=True, timeout=5)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "batches" in tables:
        out["batches"] += db.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
    if "reads" in tables:
        for slug, count in db.execute("SELECT slug, count FROM reads"):
            out["reads"][slug] = out["reads"].get(slug, 0) + count
    db.close()
print(json.dumps(out))
`;

/**
 * What the ReadCounter object has stored: { batches, reads: { slug: count } }. `batches` is
 * the number of hit batches it has counted (one row per batch id, kept two days).
 */
export async function storedCounts(objectDir) {
  if (!fs.existsSync(objectDir)) return { batches: 0, reads: {} };
  const r = await run('python3', ['-c', PY, objectDir]);
  if (r.code !== 0) throw new Error(`reading ${objectDir}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Where a site's ReadCounter SQLite files are. */
export function objectDir(site) {
  return site.runtime === 'wrangler'
    ? path.join(site.stateDir, 'v3/do/blog-ReadCounter')
    : path.join(site.dir, 'do/blog-ReadCounter');
}
