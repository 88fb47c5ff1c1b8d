// Page weight: each page kind's HTML plus the stylesheet, compressed, against the ~14 KB a
// first round trip can carry (TCP's initial window of 10 segments), and no render-blocking
// request to another origin.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ROOT } from './proc.mjs';

/** 14 KiB: what one round trip delivers with an initial congestion window of 10 segments. */
export const BUDGET = 14 * 1024;

export const gzip9 = (buf) => zlib.gzipSync(buf, { level: 9 }).length;
export const brotli11 = (buf) =>
  zlib.brotliCompressSync(buf, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length },
  }).length;

/**
 * Requests a page's head would make before first render: stylesheets and synchronous
 * scripts (no async/defer/module), with their URLs resolved against the page.
 */
export function blockingRequests(html, pageUrl) {
  const head = /<head[^>]*>([\s\S]*?)<\/head>/i.exec(html)?.[1] ?? '';
  const attr = (tag, name) => new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  const value = (m) => (m ? (m[2] ?? m[3] ?? m[4]) : null);
  const found = [];
  for (const [tag] of head.matchAll(/<link\b[^>]*>/gi)) {
    const rel = (value(attr(tag, 'rel')) ?? '').toLowerCase().split(/\s+/);
    const media = value(attr(tag, 'media'));
    if (rel.includes('stylesheet') && !rel.includes('alternate') && (media === null || media === 'all' || media === 'screen')) {
      found.push({ kind: 'stylesheet', url: new URL(value(attr(tag, 'href')), pageUrl) });
    }
  }
  for (const [tag] of head.matchAll(/<script\b[^>]*>/gi)) {
    const src = value(attr(tag, 'src'));
    const type = (value(attr(tag, 'type')) ?? '').toLowerCase();
    if (src && !/\s(async|defer)\b/i.test(tag) && type !== 'module') {
      found.push({ kind: 'script', url: new URL(src, pageUrl) });
    }
  }
  return found;
}

/** `@import`s and `url()`s of a stylesheet that point at another origin. */
export function crossOriginInCss(css, cssUrl) {
  const origin = new URL(cssUrl).origin;
  const urls = [
    ...[...css.matchAll(/@import\s+(?:url\()?\s*["']?([^"')\s;]+)/gi)].map((m) => m[1]),
    ...[...css.matchAll(/url\(\s*["']?([^"')]+)["']?\s*\)/gi)].map((m) => m[1]),
  ].filter((u) => !u.startsWith('data:'));
  return urls.filter((u) => new URL(u, cssUrl).origin !== origin);
}

async function fetchText(url) {
  const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(15_000) });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

/**
 * Measures every page kind on a running site: the index, every post, the tags page, every
 * tag page and a 404. Resolves { css, rows, ok, max } where each row is one kind with its
 * heaviest page.
 */
export async function pageWeights(base, { posts, tags }) {
  const cssUrl = `${base}/style.css`;
  const css = await fetchText(cssUrl);
  if (css.status !== 200) throw new Error(`GET /style.css answered ${css.status}`);
  const cssGz = gzip9(css.body);
  const cssBr = brotli11(css.body);
  const cssCross = crossOriginInCss(css.body.toString('utf8'), cssUrl);
  const kinds = [
    { kind: 'index', paths: ['/'], status: 200 },
    { kind: 'post', paths: posts.map((s) => `/posts/${s}`), status: 200 },
    { kind: 'tags', paths: ['/tags'], status: 200 },
    { kind: 'tag', paths: tags.map((t) => `/tags/${t}`), status: 200 },
    { kind: '404', paths: ['/no-such-page'], status: 404 },
  ];
  const rows = [];
  for (const { kind, paths, status } of kinds) {
    let worst = null;
    const crossOrigin = [];
    for (const p of paths) {
      const page = await fetchText(`${base}${p}`);
      if (page.status !== status) throw new Error(`GET ${p} answered ${page.status}, expected ${status}`);
      const html = page.body;
      const blocking = blockingRequests(html.toString('utf8'), `${base}${p}`);
      const row = {
        kind,
        path: p,
        pages: paths.length,
        html: html.length,
        htmlGz: gzip9(html),
        htmlBr: brotli11(html),
        cssGz,
        cssBr,
        blocking: blocking.map((b) => b.url.pathname),
        crossOrigin: blocking.filter((b) => b.url.origin !== new URL(base).origin).map((b) => b.url.href),
      };
      row.totalGz = row.htmlGz + cssGz;
      row.totalBr = row.htmlBr + cssBr;
      crossOrigin.push(...row.crossOrigin);
      if (!worst || row.totalGz > worst.totalGz) worst = row;
    }
    rows.push({ ...worst, crossOriginAll: crossOrigin });
  }
  const max = Math.max(...rows.map((r) => r.totalGz));
  const crossOrigin = rows.flatMap((r) => r.crossOriginAll).concat(cssCross);
  return {
    css: { bytes: css.body.length, gz: cssGz, br: cssBr },
    rows,
    max,
    crossOrigin,
    ok: max <= BUDGET && crossOrigin.length === 0,
  };
}

/** Sizes of the worker as built and as wrangler would upload it. */
export function bundleSizes(bundleDir) {
  const file = (p) => {
    const buf = fs.readFileSync(p);
    return { bytes: buf.length, gz: gzip9(buf) };
  };
  const wasm = file(path.join(ROOT, 'build/index_bg.wasm'));
  const glue = file(path.join(ROOT, 'build/index.js'));
  // The Worker's entry module (wrangler.toml `main`), which imports build/index.js.
  const shim = file(path.join(ROOT, 'src/entry.mjs'));
  const uploaded = fs
    .readdirSync(bundleDir)
    .filter((f) => f.endsWith('.js') || f.endsWith('.mjs') || f.endsWith('.wasm'))
    .map((f) => ({ name: f, ...file(path.join(bundleDir, f)) }));
  const sum = (list, key) => list.reduce((a, b) => a + b[key], 0);
  return {
    wasm,
    glue: { bytes: glue.bytes + shim.bytes, gz: glue.gz + shim.gz },
    built: { bytes: wasm.bytes + glue.bytes + shim.bytes, gz: wasm.gz + glue.gz + shim.gz },
    dryRun: { files: uploaded, bytes: sum(uploaded, 'bytes'), gz: sum(uploaded, 'gz') },
  };
}
