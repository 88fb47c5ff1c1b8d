// A sync against KV that is only eventually consistent, as Workers KV is between locations:
// the real built Worker on workerd (the bundle `wrangler deploy --dry-run` makes) in several
// locations at once (bench/workerd/stale.capnp: isolates, each with its own memory), their
// `POSTS` namespace served by bench/workerd/stale-kv.js, and the real `blog sync` writing it
// through tests/tools/stale-session.mjs, in its own order. For STALE_MS after each write a
// read of that key may still answer what the key held before (or nothing, for a new key),
// drawn at every read, so any mix of old and new records can meet in one page. While the
// sync runs and for STALE_MS after it returns, readers at each location crawl the pages the
// change touches, and check:
//   (a) nothing answers 5xx;
//   (b) every post linked from a page that answered 200 answers 200 when followed at once,
//       a post's previous/next links included, and so does every year or tag page linked;
//   (c) once STALE_MS has passed since the sync returned (plus the isolate's version window),
//       every page at every location shows the new content: nothing rendered from a stale
//       read outlives the staleness.
// `BLOG_KV_STALE_MS` tells the sync how long a location may serve a previous value.
//
//   node --test tests/e2e/stale-kv.test.mjs
// Needs build/ (make build) and target/release/blog. Settings: STALE_KV_MS (4000),
// STALE_KV_P (0.5, the share of reads inside the window that answer an older state),
// STALE_KV_SEED (7), STALE_KV_LOCATIONS (8). A report of every check is printed and written
// to tests/artifacts/stale-kv.txt.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { rng, slugOf, writePosts } from '../../bench/content.mjs';
import { BLOG, ENV, ROOT, WORKERD, WRANGLER, freePort, run, runOk, sleep } from '../../bench/proc.mjs';
import { compatibilityDate, prepareBlogDir, workerdBlog } from '../../bench/servers.mjs';
import { SYNC_SETTLE_MS } from '../tools/sync-settle.mjs';

const STALE_MS = Number(process.env.STALE_KV_MS ?? 4000);
const STALE_P = Number(process.env.STALE_KV_P ?? 0.5);
const SEED = Number(process.env.STALE_KV_SEED ?? 7);
const POSTS = 300;
/** Days between two generated posts: 300 posts span a little over three years. */
const SPACING_DAYS = 4;
/** site.toml's list sizes, which the expected pages are cut by. */
const FRONT_PAGE_POSTS = 30;
const POSTS_PER_PAGE = 50;
/**
 * The isolates bench/workerd/stale.capnp runs, each a location with its own memory: each
 * one's caching is one more draw of what its pages were rendered from.
 */
const LOCATIONS = Number(process.env.STALE_KV_LOCATIONS ?? 8);
/** After the window: the isolate trusts a `version` it read for a second more. */
const MARGIN_MS = SYNC_SETTLE_MS;
/** The workers.dev name the benchmark uses: no Cache API, as on *.workers.dev. */
const HOST = 'blog.bench.workers.dev';
/** The longest the crawl goes on, whatever the sync does. */
const CRAWL_LIMIT_MS = 120_000;
/** Other post links followed per page and round, beside every link to a post that changed. */
const SAMPLE_LINKS = 3;
const REPORT = path.join(ROOT, 'tests/artifacts/stale-kv.txt');
const SESSION = path.join(ROOT, 'tests/tools/stale-session.mjs');

let tmp;
let site;
/** Each location's address; location 1 is `site.base`. */
let locations;
let contentDir;
let before_; // the content model before the edits
let after_; // and after
let edits;
let result; // what the sync and the crawl saw

// ------------------------------------------------------------------ the content model

/** The posts in a content folder, newest first ({ slug, title, date, year, tags }), and the pages they make. */
function readModel(dir) {
  const posts = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.md'))) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const field = (name) => new RegExp(`^${name} = (.*)$`, 'm').exec(text)?.[1];
    posts.push({
      slug: file.slice(0, -3),
      title: JSON.parse(field('title')),
      date: field('date'),
      year: Number(field('date').slice(0, 4)),
      tags: JSON.parse(field('tags')),
    });
  }
  posts.sort((a, b) => (a.date < b.date ? 1 : -1));
  const at = new Map(posts.map((p, i) => [p.slug, i]));
  // A post's neighbours in reading order: the older one is "previous", the newer "next".
  const neighbours = (slug) => ({ previous: posts[at.get(slug) + 1]?.slug ?? null, next: posts[at.get(slug) - 1]?.slug ?? null });
  const pages = (list, path1, pathN) => {
    const out = [];
    for (let n = 0; n * POSTS_PER_PAGE < list.length; n++) out.push({ path: n === 0 ? path1 : pathN(n + 1), slugs: list.slice(n * POSTS_PER_PAGE, (n + 1) * POSTS_PER_PAGE).map((p) => p.slug) });
    return out;
  };
  const years = [...new Set(posts.map((p) => p.year))];
  const tags = [...new Set(posts.flatMap((p) => p.tags))].sort();
  return {
    posts,
    bySlug: new Map(posts.map((p) => [p.slug, p])),
    neighbours,
    front: posts.slice(0, FRONT_PAGE_POSTS).map((p) => p.slug),
    years: new Map(years.map((y) => [y, posts.filter((p) => p.year === y)])),
    /** Every list page a year or a tag has: [{ path, slugs }]. */
    listPages: [
      ...years.flatMap((y) => pages(posts.filter((p) => p.year === y), `/${y}/`, (n) => `/${y}/page/${n}/`)),
      ...tags.flatMap((t) => pages(posts.filter((p) => p.tags.includes(t)), `/tags/${t}`, (n) => `/tags/${t}/page/${n}`)),
    ],
  };
}

/** Slugs some post's body links to (`](/posts/slug)`): removing one would fail `blog check`. */
function linkedSlugs(dir) {
  const linked = new Set();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.md'))) {
    for (const m of fs.readFileSync(path.join(dir, file), 'utf8').matchAll(/\]\(\/posts\/([^)\s#]+)\)/g)) linked.add(m[1]);
  }
  return linked;
}

const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);

/** Generated posts (the same every run), re-dated SPACING_DAYS apart so they span several years. */
async function writeContent(dir) {
  await writePosts(dir, POSTS, { bytes: 2500 });
  const newest = Date.UTC(2025, 11, 28);
  for (let i = 0; i < POSTS; i++) {
    const file = path.join(dir, `${slugOf(i)}.md`);
    const date = isoDay(newest - (POSTS - 1 - i) * SPACING_DAYS * 86_400_000);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/^date = .*$/m, `date = ${date}`));
  }
}

/** A new post file's text. */
function newPost({ title, date, tags, summary, body }) {
  const q = JSON.stringify;
  return `+++\ntitle = ${q(title)}\ndate = ${date}\nsummary = ${q(summary)}\ntags = [${tags.map(q).join(', ')}]\n+++\n\n${body}\n`;
}

/**
 * The second sync's changes, around the middle of the archive and at its newest end: text
 * edits (one of them of a summary on the front page), a retitle (its neighbours' records
 * change too), a post added at the newest end (in a year no page had yet) and one in the
 * middle, two posts removed (one on the front page), one post moved to other tags (one of
 * them new). Returns what changed, by slug.
 */
function applyEdits(dir, model) {
  const file = (slug) => path.join(dir, `${slug}.md`);
  const edit = (slug, fn) => fs.writeFileSync(file(slug), fn(fs.readFileSync(file(slug), 'utf8')));
  const mid = Math.floor(POSTS / 2);
  const linked = linkedSlugs(dir);
  const unlinked = (from, to) => {
    for (let i = from; i <= to; i++) if (!linked.has(slugOf(i))) return slugOf(i);
    throw new Error(`every post from ${slugOf(from)} to ${slugOf(to)} is linked from another`);
  };
  const e = {
    edited: [slugOf(mid - 20), slugOf(mid + 20), slugOf(POSTS - 3)],
    summary: { slug: slugOf(POSTS - 3), text: 'A summary edited during the stale window.' },
    retitled: { slug: slugOf(mid + 1), title: 'Retitled While Locations Disagree' },
    added: ['stale-kv-newest', 'stale-kv-middle'],
    removed: [unlinked(POSTS - 10, POSTS - 4), unlinked(mid - 45, mid - 35)],
    retagged: { slug: slugOf(mid + 40), from: model.bySlug.get(slugOf(mid + 40)).tags, to: null },
  };
  for (const slug of e.edited) {
    edit(slug, (t) => `${t}\nRevised while the KV was stale: marker-${slug}.\n`);
  }
  edit(e.summary.slug, (t) => t.replace(/^summary = .*$/m, `summary = ${JSON.stringify(e.summary.text)}`));
  edit(e.retitled.slug, (t) => t.replace(/^title = .*$/m, `title = ${JSON.stringify(e.retitled.title)}`));
  const spare = ['rust', 'go', 'typescript', 'devops'].find((t) => !e.retagged.from.includes(t));
  e.retagged.to = ['consistency', spare];
  edit(e.retagged.slug, (t) => t.replace(/^tags = .*$/m, `tags = ${JSON.stringify(e.retagged.to).replace(/,/g, ', ')}`));
  fs.writeFileSync(
    file('stale-kv-newest'),
    newPost({
      title: 'The Newest Post, Synced Into Stale KV',
      date: '2026-01-05',
      tags: ['rust', 'consistency'],
      summary: 'Added by the second sync, newest of all.',
      body: `Added by the second sync. See also [the other new post](/posts/stale-kv-middle) and [an older one](/posts/${slugOf(POSTS - 1)}).`,
    }),
  );
  const middleDate = isoDay(Date.parse(model.bySlug.get(slugOf(mid + 30)).date) + 2 * 86_400_000);
  fs.writeFileSync(
    file('stale-kv-middle'),
    newPost({ title: 'A Post Added In The Middle', date: middleDate, tags: ['go'], summary: 'Added by the second sync, between two old posts.', body: 'Added by the second sync, in the middle of the archive.' }),
  );
  for (const slug of e.removed) fs.rmSync(file(slug));
  return e;
}

/** Every post the second sync changes, with its neighbours before and after. */
function watchedSlugs(e, old, now) {
  const changed = [...e.edited, e.retitled.slug, ...e.added, ...e.removed, e.retagged.slug];
  const out = new Set(changed);
  for (const slug of changed) {
    for (const model of [old, now]) {
      if (!model.bySlug.has(slug)) continue;
      const { previous, next } = model.neighbours(slug);
      if (previous) out.add(previous);
      if (next) out.add(next);
    }
  }
  return out;
}

// ------------------------------------------------------------------ requests

const agents = Array.from({ length: LOCATIONS }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
const adminAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/**
 * One GET: { status, headers, body } (status is a string naming the error when nothing answered).
 * A keep-alive socket the server closed while idle resets the next request sent on it before the
 * server reads it; that request is sent again once on a fresh socket, as Node's http docs advise
 * (`req.reusedSocket`). A reset on a fresh socket is an answer and is reported.
 */
function get(base, target, { host, agent }, retried = false) {
  const url = new URL(target, base);
  return new Promise((resolve) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: 'GET', agent, headers: host ? { host } : {} },
      (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => resolve({ status: `error: ${err.code ?? err.message}`, headers: {}, body: '' }));
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
    req.on('error', (err) => {
      if (!retried && req.reusedSocket && err.code === 'ECONNRESET') resolve(get(base, target, { host, agent }, true));
      else resolve({ status: `error: ${err.code ?? err.message}`, headers: {}, body: '' });
    });
    req.end();
  });
}

/** A page at location `loc` (0-based), asked for on the workers.dev name. */
const page = (target, loc) => get(locations[loc], target, { host: HOST, agent: agents[loc] });

async function admin(target, method = 'GET') {
  const r = method === 'GET' ? await get(site.admin, target, { agent: adminAgent }) : await fetch(`${site.admin}${target}`, { method }).then(async (res) => ({ status: res.status, body: await res.text() }));
  if (r.status !== 200) throw new Error(`${method} ${target} on the KV admin socket answered ${r.status}: ${r.body.slice(0, 200)}`);
  return JSON.parse(r.body);
}

/** The number of the last KV read the worker made: marks where a request's reads begin. */
const kvSeq = async () => (await admin('/__stale/seq')).seq;

/** Links in a page: [{ href, kind }], kind `neighbour`, `popular`, `list` or `body` for a post, `year` or `tag` for a list page. */
function linksOf(html) {
  const popularAt = html.indexOf('<aside class="popular"');
  const bodyAt = html.indexOf('<div class="body">');
  const links = [];
  for (const m of html.matchAll(/<a ([^>]*)>/g)) {
    const href = /href="([^"]*)"/.exec(m[1])?.[1];
    if (!href || !href.startsWith('/')) continue;
    const clean = href.replace(/[#?].*$/, '');
    if (clean.startsWith('/posts/') && !clean.endsWith('/reads.svg') && !clean.endsWith('/reads.txt')) {
      let kind = 'list';
      if (/class="(previous|next)"/.test(m[1])) kind = 'neighbour';
      else if (popularAt >= 0 && m.index > popularAt) kind = 'popular';
      else if (bodyAt >= 0 && m.index > bodyAt) kind = 'body';
      links.push({ href: clean, kind });
    } else if (/^\/\d{4}\//.test(clean)) links.push({ href: clean, kind: 'year' });
    else if (/^\/tags\/[^/]+(\/page\/\d+)?$/.test(clean)) links.push({ href: clean, kind: 'tag' });
  }
  return links;
}

/** The posts a list page lists, in order (not Popular Reads). */
const listedSlugs = (html) => [...html.matchAll(/<h[23]><a href="\/posts\/([^"]+)">/g)].map((m) => m[1]);

// ------------------------------------------------------------------ the crawl

/**
 * Crawls until `done()`: each round asks for every page in `pages` (in a shuffled order,
 * each at the next location in turn), and after each page that answered 200 follows, at
 * once and at the same location, each link it has to a post in `watched`, every neighbour
 * link, SAMPLE_LINKS other post links and each year or tag page it links (once a round and
 * location). A new post is not asked for by its address (no reader knows it before a page
 * links it): it is reached by a link, and then its own links are followed too. One request
 * at a time, so the KV reads between two marks are one request's.
 * Returns every request: { at, loc, path, status, seq: [from, to], from, round }.
 */
async function crawl({ pages, watched, added, done, startedAt }) {
  const requests = [];
  const random = rng(SEED + 1);
  const shuffle = (list) => {
    const out = [...list];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  };
  let seq = await kvSeq();
  let round = 0;
  let roots = 0;
  let listsFollowed;
  const fetchOne = async (target, loc, from = null) => {
    const at = Date.now() - startedAt;
    const r = await page(target, loc);
    const next = await kvSeq();
    const record = { at, loc, path: target, status: r.status, seq: [seq, next], from, round };
    seq = next;
    requests.push(record);
    const html = String(r.headers['content-type'] ?? '').startsWith('text/html');
    if (record.status === 200 && html && (!from || (added.has(target) && from.depth < 3))) await follow(record, r.body);
  };
  const follow = async (record, body) => {
    const seen = new Set();
    const others = [];
    for (const link of linksOf(body)) {
      if (seen.has(link.href)) continue;
      seen.add(link.href);
      // `trail`: the pages that led here, from one asked for by its address.
      const trail = [...(record.from?.trail ?? []), record.path];
      const from = { path: record.path, at: record.at, seq: record.seq, kind: link.kind, depth: trail.length, trail };
      if (link.kind === 'year' || link.kind === 'tag') {
        if (!listsFollowed.has(`${record.loc} ${link.href}`)) {
          listsFollowed.add(`${record.loc} ${link.href}`);
          await fetchOne(link.href, record.loc, from);
        }
      } else if (link.kind === 'neighbour' || watched.has(link.href.slice('/posts/'.length))) {
        // A link back to the page that led here is followed from there already.
        if (link.href !== record.from?.path) await fetchOne(link.href, record.loc, from);
      } else {
        others.push([link, from]);
      }
    }
    for (const [link, from] of shuffle(others).slice(0, SAMPLE_LINKS)) await fetchOne(link.href, record.loc, from);
  };
  while (!done()) {
    round++;
    listsFollowed = new Set();
    for (const target of shuffle(pages)) {
      if (done()) break;
      await fetchOne(target, roots++ % LOCATIONS);
    }
  }
  return { requests, rounds: round };
}

// ------------------------------------------------------------------ the checks after the window

/**
 * Every page at location `loc` shows `model`: the front page, the archive's counts, every
 * year and tag page, the tags page, the feed and the sitemap, every post with its
 * neighbours (and the edits), and the removed posts gone. Returns { requests, failures:
 * [text, each starting with the path that failed] }.
 */
async function verifyAt(loc, model, e) {
  const failures = [];
  let requests = 0;
  const fetchPage = async (target) => {
    requests++;
    return page(target, loc);
  };
  const sameList = (where, got, want) => {
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    const missing = want.filter((s) => !got.includes(s));
    const extra = got.filter((s) => !want.includes(s));
    failures.push(`${where} lists ${got.length} posts, want ${want.length}: missing [${missing.join(', ')}], not wanted [${extra.join(', ')}]${missing.length + extra.length === 0 ? ' (order differs)' : ''}`);
  };
  const front = await fetchPage('/');
  if (front.status !== 200) failures.push(`/ answered ${front.status}`);
  else sameList('/', listedSlugs(front.body), model.front);
  if (e.summary && front.status === 200 && !front.body.includes(e.summary.text)) failures.push(`/ does not show the edited summary of ${e.summary.slug}`);

  const archive = await fetchPage('/archive');
  if (archive.status !== 200) failures.push(`/archive answered ${archive.status}`);
  else {
    const total = `${model.posts.length} posts, by year`;
    if (!archive.body.includes(total)) failures.push(`/archive does not say "${total}": ${/<p class="tagline">([^<]*)/.exec(archive.body)?.[1]}`);
    for (const [year, posts] of model.years) {
      const want = `<a href="/${year}/">${year}</a> <span class="count">${posts.length} post${posts.length === 1 ? '' : 's'}</span>`;
      if (!archive.body.includes(want)) failures.push(`/archive does not show ${year} with ${posts.length} posts`);
    }
  }
  for (const list of model.listPages) {
    const r = await fetchPage(list.path);
    if (r.status !== 200) failures.push(`${list.path} answered ${r.status}`);
    else sameList(list.path, listedSlugs(r.body), list.slugs);
  }
  const tags = await fetchPage('/tags');
  if (tags.status !== 200) failures.push(`/tags answered ${tags.status}`);
  else {
    for (const tag of new Set(model.posts.flatMap((p) => p.tags))) {
      const count = model.posts.filter((p) => p.tags.includes(tag)).length;
      const m = new RegExp(`href="/tags/${tag}">[^<]*</a> <span class="count">(\\d+) post`).exec(tags.body);
      if (Number(m?.[1]) !== count) failures.push(`/tags shows ${tag} with ${m?.[1] ?? 'no'} posts, want ${count}`);
    }
  }
  for (const [where, wantSlugs] of [['/feed.xml', model.posts.slice(0, 20).map((p) => p.slug)], ['/sitemap.xml', model.posts.map((p) => p.slug)]]) {
    const r = await fetchPage(where);
    if (r.status !== 200) {
      failures.push(`${where} answered ${r.status}`);
      continue;
    }
    let text = r.body;
    // A sitemap index names its parts: read them too.
    for (const m of r.body.matchAll(/<loc>[^<]*(\/sitemap-\d+\.xml)<\/loc>/g)) text += (await fetchPage(m[1])).body;
    const has = (s) => text.includes(`/posts/${s}<`) || text.includes(`/posts/${s}"`);
    const missing = wantSlugs.filter((s) => !has(s));
    const gone = e.removed.filter(has);
    if (missing.length) failures.push(`${where} lacks [${missing.join(', ')}]`);
    if (gone.length) failures.push(`${where} still has the removed [${gone.join(', ')}]`);
  }
  for (const post of model.posts) {
    const target = `/posts/${post.slug}`;
    const r = await fetchPage(target);
    if (r.status !== 200) {
      failures.push(`${target} answered ${r.status}`);
      continue;
    }
    const h1 = /<h1>([^<]*)<\/h1>/.exec(r.body)?.[1];
    if (h1 !== post.title) failures.push(`${target} is titled "${h1}", want "${post.title}"`);
    const { previous, next } = model.neighbours(post.slug);
    const shown = {
      previous: /<a class="previous" href="\/posts\/([^"]+)"/.exec(r.body)?.[1] ?? null,
      next: /<a class="next" href="\/posts\/([^"]+)"/.exec(r.body)?.[1] ?? null,
    };
    if (shown.previous !== previous || shown.next !== next) failures.push(`${target} shows neighbours ${shown.previous} / ${shown.next}, want ${previous} / ${next}`);
    if (e.edited.includes(post.slug) && !r.body.includes(`marker-${post.slug}`)) failures.push(`${target} does not show its edit`);
    const postTags = [...r.body.matchAll(/<li><a href="\/tags\/([^"]+)">/g)].map((m) => m[1]);
    if (postTags.join() !== post.tags.join()) failures.push(`${target} shows tags [${postTags}], want [${post.tags}]`);
  }
  for (const slug of e.removed) {
    const r = await fetchPage(`/posts/${slug}`);
    if (r.status !== 404) failures.push(`/posts/${slug} (removed) answered ${r.status}, want 404`);
  }
  return { requests, failures };
}

/**
 * verifyAt at every location, one after another. Returns { requests, failures: [{ loc,
 * text }], seqs: each location's KV reads, [from, to] }.
 */
async function verifyEverywhere(model, e) {
  const out = { requests: 0, failures: [], seqs: [] };
  for (let loc = 0; loc < LOCATIONS; loc++) {
    const from = await kvSeq();
    const { requests, failures } = await verifyAt(loc, model, e);
    out.requests += requests;
    out.failures.push(...failures.map((text) => ({ loc, text })));
    out.seqs.push([from, await kvSeq()]);
  }
  return out;
}

// ------------------------------------------------------------------ the report

const secs = (ms) => `${ms >= 0 ? '+' : ''}${(ms / 1000).toFixed(2)} s`;
const where = (loc) => `location ${loc + 1}`;
const ago = (age) => (age === null ? '' : ` (written ${(age / 1000).toFixed(2)} s before)`);

/** The KV reads a request made, as `key=answer`, old answers with their age; `focus` keys always. */
function describeReads(reads, [from, to], focus = []) {
  const mine = reads.filter(([seq]) => seq > from && seq <= to);
  const shown = mine.filter(([, key, answer]) => answer !== 'current' || focus.includes(key));
  const text = shown.map(([, key, answer, age]) => `${key}=${answer}${ago(age)}`);
  const rest = mine.length - shown.length;
  return `${text.join(', ') || 'nothing stale'}${rest ? `; ${rest} other read${rest === 1 ? '' : 's'} current` : ''}`;
}

/** The record a page is built from (beside `version` and `site`). */
function keyOfPath(target) {
  const fixed = { '/': 'list/front', '/archive': 'site', '/tags': 'tags', '/feed.xml': 'list/feed', '/sitemap.xml': 'list/sitemap/1' };
  if (fixed[target]) return fixed[target];
  let m = /^\/posts\/([^/]+)/.exec(target);
  if (m) return `post/${m[1]}`;
  if ((m = /^\/(\d{4})\/(?:page\/(\d+)\/)?$/.exec(target))) return `list/year/${m[1]}/${m[2] ?? 1}`;
  if ((m = /^\/tags\/([^/]+)(?:\/page\/(\d+))?$/.exec(target))) return `list/tag/${m[1]}/${m[2] ?? 1}`;
  return null;
}

/** The location whose request made KV read `seq` during the crawl (requests are one at a time). */
function locationOfRead(seq) {
  const requests = result.crawled.requests;
  let lo = 0;
  let hi = requests.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [from, to] = requests[mid].seq;
    if (seq <= from) hi = mid - 1;
    else if (seq > to) lo = mid + 1;
    else return requests[mid].loc;
  }
  return null;
}

/**
 * A page still wrong after the window, with that location's reads of its record: every one
 * since staleness was turned on, and whether the check read it at all (if not, the page
 * came from the isolate's memory).
 */
function describeLateFailure({ loc, text }, pass) {
  const key = keyOfPath(text.split(' ')[0]);
  if (!key) return `  ${where(loc)}: ${text}`;
  const { reads, seq0, startedAt } = result;
  const inWindow = reads.filter(([seq, k]) => k === key && seq > seq0 && seq <= pass.seqs[0][0] && locationOfRead(seq) === loc);
  const [from, to] = pass.seqs[loc];
  const checked = reads.filter(([seq, k]) => k === key && seq > from && seq <= to).map(([, , answer]) => answer);
  const window = inWindow.map(([, , answer, age, at]) => `${secs(at - startedAt)} ${answer}${ago(age)}`);
  return `  ${where(loc)}: ${text}\n      ${key} read there since the sync began: ${window.join(', ') || 'never'}; during this check: ${checked.join(', ') || 'not read (served from memory)'}`;
}

/** When each phase of the sync wrote, from the KV's write log. */
function timeline(writes, startedAt) {
  const phase = (op, key) => {
    if (op === 'delete') return 'deletions';
    if (key.startsWith('file/')) return 'files';
    if (key.startsWith('post/')) return 'posts';
    if (key === 'version') return 'version';
    return 'site and lists';
  };
  const phases = new Map();
  for (const [, at, op, key] of writes) {
    const name = phase(op, key);
    const p = phases.get(name) ?? { n: 0, first: at, last: at, keys: [] };
    p.n++;
    p.last = at;
    if (p.keys.length < 6) p.keys.push(key);
    phases.set(name, p);
  }
  return [...phases].map(([name, p]) => `  ${name}: ${p.n} write${p.n === 1 ? '' : 's'} from ${secs(p.first - startedAt)} to ${secs(p.last - startedAt)} (${p.keys.join(', ')}${p.n > p.keys.length ? ', …' : ''})`);
}

/** One failing request during the window, with the page that linked it and what KV answered. */
function describeFailure(r, reads, writtenAt, startedAt) {
  const key = keyOfPath(r.path);
  const written = key && writtenAt.has(key) ? `; ${key} last written at ${secs(writtenAt.get(key) - startedAt)}` : '';
  let text = `  ${secs(r.at)} round ${r.round}, ${where(r.loc)}: GET ${r.path} -> ${r.status}${written}\n      its KV reads: ${describeReads(reads, r.seq, key ? [key] : [])}`;
  if (r.from) {
    const via = r.from.trail.length > 1 ? ` (reached by ${r.from.trail.join(' -> ')})` : '';
    text += `\n      linked (${r.from.kind}) from ${r.from.path}${via}, answered 200 at ${secs(r.from.at)}; its KV reads: ${describeReads(reads, r.from.seq)}`;
  }
  return text;
}

// ------------------------------------------------------------------ setup

/** The bundle `wrangler deploy --dry-run` makes from build/, without running the build again. */
async function bundle(dir) {
  // The project's wrangler.toml, but for its [build] command (the Worker is built already,
  // and may be being rebuilt: build/.lock is held while build/ changes).
  const toml = fs.readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8');
  const lines = [];
  let inBuild = false;
  for (const line of toml.split('\n')) {
    if (/^\s*\[/.test(line)) inBuild = /^\s*\[build\]\s*$/.test(line);
    if (!inBuild) lines.push(line.replace(/^main = "([^"]+)"/, (_, main) => `main = ${JSON.stringify(path.join(ROOT, main))}`));
  }
  fs.writeFileSync(path.join(dir, 'wrangler.toml'), lines.join('\n'));
  await runOk('flock', [path.join(ROOT, 'build/.lock'), WRANGLER, 'deploy', '--dry-run', '--outdir', path.join(dir, 'bundle'), '--config', path.join(dir, 'wrangler.toml')]);
  return path.join(dir, 'bundle');
}

/**
 * bench/workerd/stale.capnp as the folder's blog.capnp (the modules' names as
 * prepareBlogDir found them), with a service and an address for each location after the
 * first. Returns those addresses.
 */
async function writeLocationsConfig(dir, date) {
  const files = fs.readdirSync(path.join(dir, 'bundle'));
  const main = files.find((f) => f.endsWith('.js'));
  const wasm = files.find((f) => f.endsWith('.wasm'));
  const others = [];
  for (let n = 2; n <= LOCATIONS; n++) others.push({ n, address: `127.0.0.1:${await freePort()}` });
  const config = fs
    .readFileSync(path.join(ROOT, 'bench/workerd/stale.capnp'), 'utf8')
    .replaceAll('@MAIN@', main)
    .replaceAll('@WASM@', wasm)
    .replaceAll('@DATE@', date)
    .replace('@LOCATION_SERVICES@', others.map(({ n }) => `(name = "location-${n}", worker = .location),`).join('\n    '))
    .replace('@LOCATION_SOCKETS@', others.map(({ n, address }) => `(name = "http-${n}", address = "${address}", http = (), service = "location-${n}"),`).join('\n    '));
  fs.writeFileSync(path.join(dir, 'blog.capnp'), config);
  return others.map(({ address }) => `http://${address}`);
}

/** `blog sync` of the content folder into the stale KV, through the stand-in session. */
function sync(extraEnv = {}) {
  return run(BLOG, ['sync', '--content', contentDir, '--persist-to', path.join(tmp, 'state')], {
    env: { ...ENV, BLOG_NODE: SESSION, STALE_KV_ADMIN: site.admin, ...extraEnv },
  });
}

before(async () => {
  for (const f of ['build/index_bg.wasm', 'build/index.js', 'target/release/blog']) {
    assert.ok(fs.existsSync(path.join(ROOT, f)), `${f} is missing: run \`make build\` and \`cargo build --release -p blog-author --bin blog\` first`);
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'blog-stale-kv-'));
  contentDir = path.join(tmp, 'content');
  const [bundleDir] = await Promise.all([bundle(tmp), writeContent(contentDir)]);
  fs.writeFileSync(path.join(tmp, 'kv.json'), '[]');
  const date = compatibilityDate((await run(WORKERD, ['--version'])).stdout);
  const dir = prepareBlogDir('stale-kv-e2e', { bundleDir, kvJson: path.join(tmp, 'kv.json'), date });
  // The eventually consistent KV in kv.js's place (same module name, same wire), and the
  // locations in blog.capnp's.
  fs.copyFileSync(path.join(ROOT, 'bench/workerd/stale-kv.js'), path.join(dir, 'kv.js'));
  const others = await writeLocationsConfig(dir, date);
  site = await workerdBlog({ name: 'stale-kv-e2e', dir, readyPath: '/style.css' });
  locations = [site.base, ...others];
  for (let loc = 1; loc < LOCATIONS; loc++) {
    const r = await page('/style.css', loc);
    assert.equal(r.status, 200, `${where(loc)} (${locations[loc]}) does not answer`);
  }
  // The first sync with staleness off: every location agrees on the old site.
  await admin('/__stale/config?ms=0', 'PUT');
  const first = await sync();
  assert.equal(first.code, 0, `the first sync failed:\n${first.stdout}${first.stderr}`);
  before_ = readModel(contentDir);
});

after(async () => {
  await site?.stop();
  for (const agent of [...agents, adminAgent]) agent.destroy();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// ------------------------------------------------------------------ tests

test('the first sync, through the stand-in session, publishes every post with its neighbours at every location', async () => {
  const { failures, requests } = await verifyEverywhere(before_, { edited: [], removed: [] });
  const lines = failures.slice(0, 20).map(({ loc, text }) => `${where(loc)}: ${text}`);
  assert.deepEqual(lines, [], `${failures.length} of ${requests} pages wrong before any staleness`);
});

test(`a sync into KV that serves old values for ${STALE_MS} ms after each write completes while readers crawl`, async () => {
  edits = applyEdits(contentDir, before_);
  after_ = readModel(contentDir);
  const watched = watchedSlugs(edits, before_, after_);
  // Every year's pages, and every tag page that lists a watched post, before or after. A
  // page the sync creates (a new tag, year or page number) is not asked for by its address,
  // as a new post is not: it is reached by the links to it.
  const existing = new Set(before_.listPages.map((l) => l.path));
  const touchedLists = new Set(
    [...before_.listPages, ...after_.listPages]
      .filter((l) => existing.has(l.path))
      .filter((l) => l.path.match(/^\/\d{4}\//) || l.slugs.some((s) => watched.has(s)))
      .map((l) => l.path),
  );
  const added = new Set(edits.added.map((s) => `/posts/${s}`));
  const pages = ['/', '/archive', '/tags', '/feed.xml', ...touchedLists, ...[...watched].map((s) => `/posts/${s}`).filter((p) => !added.has(p))];

  // Warm up: each isolate holds the old site's pages, as one serving readers does.
  for (let loc = 0; loc < LOCATIONS; loc++) for (const target of pages) await page(target, loc);
  await admin(`/__stale/config?ms=${STALE_MS}&p=${STALE_P}&seed=${SEED}`, 'PUT');
  const seq0 = await kvSeq();
  const logFrom = fs.existsSync(site.logFile) ? fs.statSync(site.logFile).size : 0;

  const startedAt = Date.now();
  let returnedAt = null;
  const syncing = sync({ BLOG_KV_STALE_MS: String(STALE_MS) }).then((r) => {
    returnedAt = Date.now();
    return r;
  });
  // Until STALE_MS after the sync returned (and at most CRAWL_LIMIT_MS, should it hang).
  const done = () => (returnedAt !== null && Date.now() >= returnedAt + STALE_MS) || Date.now() - startedAt > CRAWL_LIMIT_MS;
  const crawled = await crawl({ pages, watched, added, startedAt, done });
  const synced = await syncing;
  const windowEndedAt = Date.now();
  await sleep(Math.max(0, returnedAt + STALE_MS + MARGIN_MS - Date.now()));
  const checkedAt = Date.now();
  const firstPass = await verifyEverywhere(after_, edits);
  await sleep(SYNC_SETTLE_MS);
  const secondPass = await verifyEverywhere(after_, edits);

  const [stats, reads, writes] = await Promise.all([admin('/__stale/stats'), admin(`/__stale/reads?after=${seq0}`), admin('/__stale/writes')]);
  const log = fs.existsSync(site.logFile) ? fs.readFileSync(site.logFile).subarray(logFrom).toString('utf8') : '';
  result = { startedAt, returnedAt, windowEndedAt, checkedAt, synced, crawled, firstPass, secondPass, stats, reads, writes, pages, watched, seq0, log };
  writeReport();
  assert.equal(synced.code, 0, `the sync failed:\n${synced.stdout}${synced.stderr}`);
});

// New keys are read only once something links them, after the sync's wait, so a new key
// answered as missing is not expected here: old values of changed keys are.
test('the KV served old values during the window (the staleness is real)', () => {
  assert.ok(result, 'the sync and crawl did not run');
  const { stats } = result;
  assert.ok(stats.previous > 0, `stale answers: ${stats.previous} old values, ${stats.missing} missing keys of ${stats.reads} reads`);
});

test('(a) no request answers 5xx while the sync runs or during the stale window', () => {
  assert.ok(result, 'the sync and crawl did not run');
  const bad = serverErrors();
  assert.equal(bad.length, 0, `${bad.length} of ${result.crawled.requests.length} requests answered 5xx or not at all:\n${failureLines(bad)}`);
});

test('(b) every post a page links to answers 200 when followed during the window, previous/next links included', () => {
  assert.ok(result, 'the sync and crawl did not run');
  const { followed, bad } = brokenLinks(POST_LINKS);
  assert.equal(bad.length, 0, `${bad.length} of ${followed.length} post links followed did not answer 200:\n${failureLines(bad)}`);
});

test('(b) every year and tag page a page links to answers 200 when followed during the window', () => {
  assert.ok(result, 'the sync and crawl did not run');
  const { followed, bad } = brokenLinks(LIST_LINKS);
  assert.equal(bad.length, 0, `${bad.length} of ${followed.length} year and tag links followed did not answer 200:\n${failureLines(bad)}`);
});

test(`(c) ${STALE_MS} ms after the sync returned, every page at every location shows the new content`, () => {
  assert.ok(result, 'the sync and crawl did not run');
  const failures = lateFailures();
  const { firstPass, secondPass } = result;
  assert.equal(failures.length, 0, `${firstPass.failures.length} of ${firstPass.requests} pages were wrong at the first pass, ${secondPass.failures.length} at the second:\n${failures.slice(0, 30).join('\n')}`);
});

// ------------------------------------------------------------------ results

const POST_LINKS = ['list', 'neighbour', 'popular', 'body'];
const LIST_LINKS = ['year', 'tag'];

const serverErrors = () => result.crawled.requests.filter((r) => typeof r.status !== 'number' || r.status >= 500);

function brokenLinks(kinds) {
  const followed = result.crawled.requests.filter((r) => r.from && kinds.includes(r.from.kind));
  return { followed, bad: followed.filter((r) => r.status !== 200) };
}

/** Every page wrong after the window, described: the first pass's, then the second's new ones. */
function lateFailures() {
  const { firstPass, secondPass } = result;
  const seen = new Set(firstPass.failures.map((f) => `${f.loc} ${f.text}`));
  return [
    ...firstPass.failures.map((f) => describeLateFailure(f, firstPass)),
    ...secondPass.failures.filter((f) => !seen.has(`${f.loc} ${f.text}`)).map((f) => `${describeLateFailure(f, secondPass)} (second pass only)`),
  ];
}

function failureLines(list, limit = 12) {
  const writtenAt = new Map(result.writes.map(([, at, , key]) => [key, at]));
  const lines = list.slice(0, limit).map((r) => describeFailure(r, result.reads, writtenAt, result.startedAt));
  if (list.length > limit) lines.push(`  … and ${list.length - limit} more (${REPORT})`);
  return lines.join('\n');
}

/** A log's distinct lines, most frequent first, with their counts. */
function logSummary(log, limit = 20) {
  const counts = new Map();
  for (const line of log.split('\n').map((l) => l.trim()).filter(Boolean)) counts.set(line, (counts.get(line) ?? 0) + 1);
  const lines = [...counts].sort((a, b) => b[1] - a[1]).map(([line, n]) => `  ${String(n).padStart(5)} × ${line.slice(0, 300)}`);
  if (lines.length === 0) return ['  (nothing)'];
  return lines.length > limit ? [...lines.slice(0, limit), `  … and ${lines.length - limit} more`] : lines;
}

function writeReport() {
  const r = result;
  const during = r.crawled.requests.filter((q) => q.at < r.returnedAt - r.startedAt).length;
  const posts = brokenLinks(POST_LINKS);
  const lists = brokenLinks(LIST_LINKS);
  const errors = serverErrors();
  const tally = (list) => {
    const out = {};
    for (const q of list) {
      const k = `${q.from?.kind ?? 'page'} -> ${q.status}`;
      out[k] = (out[k] ?? 0) + 1;
    }
    return Object.entries(out).map(([k, n]) => `${k}: ${n}`).join(', ');
  };
  const late = lateFailures();
  const lines = [
    `stale KV: STALE_MS ${STALE_MS}, p ${STALE_P}, seed ${SEED}; ${POSTS} posts; ${LOCATIONS} locations; ${r.pages.length} pages a round, ${r.watched.size} posts watched`,
    `edits: edited ${edits.edited.join(', ')} (and the summary of ${edits.summary.slug}); retitled ${edits.retitled.slug}; added ${edits.added.join(', ')}; removed ${edits.removed.join(', ')}; retagged ${edits.retagged.slug} [${edits.retagged.from}] -> [${edits.retagged.to}]`,
    `sync: exit ${r.synced.code}, returned at ${secs(r.returnedAt - r.startedAt)}; crawl ended at ${secs(r.windowEndedAt - r.startedAt)}; final check from ${secs(r.checkedAt - r.startedAt)}`,
    'sync writes (KV clock, from the sync start):',
    ...timeline(r.writes, r.startedAt),
    `KV reads from the sync start: ${r.stats.reads} (${r.stats.current} current, ${r.stats.absent} absent, ${r.stats.previous} old values, ${r.stats.missing} missing keys)`,
    `crawl: ${r.crawled.requests.length} requests in ${r.crawled.rounds} rounds (${during} while the sync ran)`,
    '',
    `(a) 5xx or no answer: ${errors.length} of ${r.crawled.requests.length}`,
    failureLines(errors, 40),
    `(b) post links followed: ${posts.followed.length}, not 200: ${posts.bad.length} (${tally(posts.bad)})`,
    failureLines(posts.bad, 40),
    `(b) year and tag links followed: ${lists.followed.length}, not 200: ${lists.bad.length} (${tally(lists.bad)})`,
    failureLines(lists.bad, 40),
    `(c) after the window: ${r.firstPass.failures.length} wrong in ${r.firstPass.requests} requests; ${SYNC_SETTLE_MS} ms later: ${r.secondPass.failures.length} wrong`,
    ...late.slice(0, 80),
    `worker log from the sync start (${site.logFile}), distinct lines:`,
    ...logSummary(r.log),
    '',
    'sync output:',
    r.synced.stdout.trim(),
    r.synced.stderr.trim(),
  ].filter((l) => l !== '');
  fs.mkdirSync(path.dirname(REPORT), { recursive: true });
  fs.writeFileSync(REPORT, `${lines.join('\n')}\n`);
  console.log(lines.join('\n'));
}
