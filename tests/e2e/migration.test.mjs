// Upgrading the read counter keeps every count. tests/fixtures/counter-v1 holds the Durable
// Object's SQLite files as the schema-1 counter wrote them (7 reads of the fintech post,
// 3 of the Apple post). They are copied into a freshly synced state folder before the dev
// server starts; the new counter migrates them in place on its first request.
//
// A schema-3 counter kept every day's rows for ever. The second site starts from such an
// object with a long history (the schema-1 files brought to schema 3 with that version's own
// statements, and rows dated up to 500 days back) and a retention of 60 days: the upgrade
// keeps every count, and the first read of the day rolls the days past the retention up
// into each post's total.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { BLOG, ROOT, get, parseIndex, run, tempDir } from './harness.mjs';
import { BROWSER, popularOrder, readAs, readsShown, sleep, startSite, waitForReads } from './support.mjs';

const FIXTURE = path.join(ROOT, 'tests/fixtures/counter-v1/blog-ReadCounter');
const FINTECH = '/posts/building-a-fintech-platform-with-go-microservices';
const APPLE = '/posts/apple-native-container-cli';

let site;
let fixtureBytes;

before(async () => {
  fixtureBytes = await snapshot(FIXTURE);
  site = await startSite({
    beforeStart: async ({ stateDir }) => {
      const target = path.join(stateDir, 'v3/do/blog-ReadCounter');
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.cp(FIXTURE, target, { recursive: true });
    },
  });
});

after(() => site?.stop());

/** Every file of a folder with its bytes, to prove the fixture itself is never changed. */
async function snapshot(dir) {
  const files = {};
  for (const f of await fs.readdir(dir)) files[f] = (await fs.readFile(path.join(dir, f))).toString('base64');
  return files;
}

async function counts() {
  return { fintech: await readsShown(site, FINTECH), apple: await readsShown(site, APPLE) };
}

test('the badges show the counts the old counter kept', async () => {
  await waitForReads(site, FINTECH, 7);
  await waitForReads(site, APPLE, 3);
  // Every other post starts from zero.
  const index = parseIndex((await get(`${site.base}/`)).body);
  for (const p of index.posts.filter((p) => p.href !== FINTECH && p.href !== APPLE)) {
    assert.equal(await readsShown(site, p.href), 0, p.href);
  }
});

test('Popular Reads puts the fintech post first and the Apple post second', async () => {
  const index = parseIndex((await get(`${site.base}/`)).body);
  // Without the old counts these two, the oldest posts, would not be listed at all.
  const newestFirst = index.posts.slice(0, 5).map((p) => p.href);
  assert.ok(!newestFirst.includes(FINTECH) && !newestFirst.includes(APPLE), newestFirst.join(' '));
  const order = popularOrder((await get(`${site.base}/`)).body);
  assert.deepEqual(order.slice(0, 2), [FINTECH, APPLE]);
  assert.deepEqual(order.slice(2), newestFirst.slice(0, 3), 'the rest, with no reads, newest first');
});

test('a new read adds exactly one', async () => {
  assert.equal((await readAs(site, '203.0.113.50', FINTECH)).status, 200);
  await readAs(site, '203.0.113.50', FINTECH); // the same reader: not again
  await waitForReads(site, FINTECH, 8);
  await sleep(11_000); // a refresh later, still exactly one more
  assert.deepEqual(await counts(), { fintech: 8, apple: 3 });
});

test('a restart keeps everything', async () => {
  await site.restart();
  await waitForReads(site, FINTECH, 8);
  assert.deepEqual(await counts(), { fintech: 8, apple: 3 });
  const order = popularOrder((await get(`${site.base}/`)).body);
  assert.deepEqual(order.slice(0, 2), [FINTECH, APPLE]);
  // The same reader is still remembered today after the restart.
  await readAs(site, '203.0.113.50', FINTECH);
  await readAs(site, '203.0.113.51', APPLE);
  await waitForReads(site, APPLE, 4);
  assert.equal(await readsShown(site, FINTECH), 8);
});

test('the fixture itself was copied, not changed', async () => {
  assert.deepEqual(await snapshot(FIXTURE), fixtureBytes);
});

/** Runs a Python sqlite3 script on a SQLite file; resolves what it printed, as JSON. */
async function sqlite(file, script, args = []) {
  const { code, stdout, stderr } = await run('python3', ['-c', `import sqlite3, sys, json\ndb = sqlite3.connect(sys.argv[1])\n${script}\ndb.commit()`, file, ...args.map(String)]);
  if (code !== 0) throw new Error(`python3 sqlite3 failed (${code}): ${stderr}`);
  return stdout.trim() ? JSON.parse(stdout) : null;
}

/** The schema-3 counter's statements, as it ran them, and a history of 500 days. */
const TO_V3 = `
today = int(sys.argv[2])
db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
db.execute("CREATE TABLE IF NOT EXISTS daily (slug TEXT NOT NULL, day INTEGER NOT NULL, reads INTEGER NOT NULL, PRIMARY KEY (slug, day))")
db.execute("CREATE TABLE IF NOT EXISTS seen (reader TEXT PRIMARY KEY, day INTEGER NOT NULL)")
db.execute("CREATE TABLE IF NOT EXISTS salt (day INTEGER PRIMARY KEY, value TEXT NOT NULL)")
db.execute("CREATE TABLE IF NOT EXISTS batches (id TEXT PRIMARY KEY, day INTEGER NOT NULL)")
rows = json.loads(sys.argv[3])
for slug, ago, reads in rows:
    db.execute("INSERT INTO daily (slug, day, reads) VALUES (?, ?, ?)", (slug, today - ago, reads))
db.execute("INSERT INTO meta (key, value) VALUES ('schema', 3)")
`;

const FINTECH_SLUG = FINTECH.replace('/posts/', '');
const APPLE_SLUG = APPLE.replace('/posts/', '');
/** [slug, days ago, reads]: 7 and 3 reads in all, as the totals in the fixture say. */
const HISTORY = [
  [FINTECH_SLUG, 500, 3], [FINTECH_SLUG, 90, 1], [FINTECH_SLUG, 45, 1], [FINTECH_SLUG, 20, 1], [FINTECH_SLUG, 3, 1],
  [APPLE_SLUG, 450, 2], [APPLE_SLUG, 10, 1],
];
const RETENTION = 60;

/** An address whose reads go to shard 0 (`all-posts`, the object that has the history):
 * the shard is the reader's fingerprint's first 32 bits modulo 8. */
function shardZeroReader() {
  for (let i = 1; ; i++) {
    const ip = `203.0.113.${i}`;
    const fingerprint = createHash('sha256').update(`${ip}\n${BROWSER}`).digest();
    if (fingerprint.readUInt32BE(0) % 8 === 0) return ip;
  }
}
const TOKEN = 'migration-stats-token';

describe('a schema-3 counter with 500 days of history', () => {
  let old;
  let dbFile;
  const today = Math.floor(Date.now() / 86_400_000);

  before(async () => {
    const settings = path.join(await tempDir('blog-e2e-settings-'), 'site.toml');
    const text = await fs.readFile(path.join(ROOT, 'site.toml'), 'utf8');
    await fs.writeFile(settings, text.replace(/^stats_retention_days = \d+$/m, `stats_retention_days = ${RETENTION}`));
    old = await startSite({
      syncArgs: ['--settings', settings],
      wranglerArgs: ['--var', `STATS_TOKEN:${TOKEN}`],
      beforeStart: async ({ stateDir }) => {
        const target = path.join(stateDir, 'v3/do/blog-ReadCounter');
        await fs.mkdir(path.dirname(target), { recursive: true });
        await fs.cp(FIXTURE, target, { recursive: true });
        const name = (await fs.readdir(target)).find((f) => f !== 'metadata.sqlite' && f.endsWith('.sqlite'));
        dbFile = path.join(target, name);
        await sqlite(dbFile, TO_V3, [today, JSON.stringify(HISTORY)]);
      },
    });
  });
  after(() => old?.stop());

  const report = async () => {
    const { code, stdout, stderr } = await run(BLOG, ['stats', '--json', '--url', old.base], {
      env: { ...process.env, BLOG_STATS_TOKEN: TOKEN },
    });
    assert.equal(code, 0, stderr);
    return JSON.parse(stdout);
  };

  test('the upgrade keeps every count, and the day\'s first read rolls up the days past the retention', async () => {
    await waitForReads(old, FINTECH, 7);
    await waitForReads(old, APPLE, 3);
    assert.equal((await readAs(old, shardZeroReader(), FINTECH)).status, 200);
    await waitForReads(old, FINTECH, 8);
    const r = await report();
    assert.equal(r.retention_days, RETENTION);
    const posts = Object.fromEntries(r.posts.map((p) => [p.slug, p]));
    // All-time totals keep the rolled-up days; the windows count the days within them.
    assert.deepEqual([posts[FINTECH_SLUG].total, posts[FINTECH_SLUG].last_7_days, posts[FINTECH_SLUG].last_30_days], [8, 2, 3]);
    assert.deepEqual([posts[APPLE_SLUG].total, posts[APPLE_SLUG].last_7_days, posts[APPLE_SLUG].last_30_days], [3, 0, 1]);
    assert.equal(posts[FINTECH_SLUG].daily.at(-4), 1, 'three days ago');
  });

  test('on disk: the schema is 4, rows past the retention are gone, no total moved', async () => {
    await old.restart(); // the object's files, closed
    const state = await sqlite(dbFile, `print(json.dumps({
  "schema": db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0],
  "rolled_up": db.execute("SELECT value FROM meta WHERE key = 'rolled_up'").fetchone()[0],
  "totals": dict(db.execute("SELECT slug, count FROM reads").fetchall()),
  "days": sorted(db.execute("SELECT slug, day, reads FROM daily").fetchall()),
  "tables": sorted(r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")),
}))`);
    assert.equal(state.schema, 4);
    assert.equal(state.rolled_up, today);
    assert.deepEqual(state.totals, { [FINTECH_SLUG]: 8, [APPLE_SLUG]: 3 });
    const kept = (slug) => state.days.filter(([s]) => s === slug).map(([, day, reads]) => [today - day, reads]);
    // 60 days, today included: 90, 450 and 500 days back are rolled up; 45 stays.
    assert.deepEqual(kept(FINTECH_SLUG), [[45, 1], [20, 1], [3, 1], [0, 1]]);
    assert.deepEqual(kept(APPLE_SLUG), [[10, 1]]);
    assert.ok(state.tables.includes('referrers'), state.tables.join(' '));
    // And the site still shows every count after the restart.
    await waitForReads(old, FINTECH, 8);
    assert.equal(await readsShown(old, APPLE), 3);
  });
});
