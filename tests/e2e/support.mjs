// Helpers the robustness tests share: read counts, raw requests, security headers, small
// content folders. The site itself (harness.startSite, with `wranglerArgs` for fault
// injection and `restart({ wranglerArgs })`) is re-exported from harness.mjs.
//
//   const site = await startSite({ wranglerArgs: ['--var', 'COUNTER_FAULT:throw'] });
//   await site.restart({ wranglerArgs: [] });

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { CONTENT, get, kv, sleep, tempDir, waitFor } from './harness.mjs';

// The site, temporary folders and KV access live in harness.mjs; these suites import them from here too.
export { kv, removeTemp, startSite, tempDir } from './harness.mjs';

export const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
export const BOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

/** A content folder: the project's posts plus `extra` ({ name: text or bytes }). */
export async function contentWith(extra = {}, { base = CONTENT } = {}) {
  const dir = await tempDir('blog-e2e-content-');
  await fs.cp(base, dir, { recursive: true });
  for (const [name, data] of Object.entries(extra)) await fs.writeFile(path.join(dir, name), data);
  return dir;
}

/** Every key in a state folder's local KV: [{ name, metadata }]. Throws when wrangler fails. */
export async function kvKeys(stateDir) {
  const { code, stdout, stderr } = await kv(stateDir, ['key', 'list']);
  if (code !== 0) throw new Error(`wrangler kv key list failed (${code}):\n${stdout}${stderr}`);
  const start = stdout.indexOf('[');
  if (start < 0) throw new Error(`wrangler kv key list printed no JSON list:\n${stdout}`);
  return JSON.parse(stdout.slice(start));
}

/** The count a post's read badge shows, or null when the badge does not answer 200 with a count. */
export async function readsShown(site, postPath) {
  const { status, body } = await get(`${site.base}${postPath}/reads.svg`);
  if (status !== 200) return null;
  const m = /<text[^>]*>([\d,]+) reads?<\/text>/.exec(body);
  return m ? Number(m[1].replace(/,/g, '')) : null;
}

/** Polls a badge until it shows `want`; returns it, or throws saying what it showed last. */
export async function waitForReads(site, postPath, want, timeoutMs = 40_000) {
  let last;
  return waitFor(
    async () => {
      last = await readsShown(site, postPath);
      return last === want ? last : null;
    },
    { timeoutMs, intervalMs: 500, describe: () => `${postPath}: badge shows ${last}, want ${want}` },
  );
}

/** A browser-like GET from one reader (the local runtime passes CF-Connecting-IP through). */
export function readAs(site, reader, postPath, headers = {}) {
  return get(`${site.base}${postPath}`, { headers: { 'user-agent': BROWSER, 'cf-connecting-ip': reader, ...headers } });
}

/** The hrefs of Popular Reads, in order. */
export function popularOrder(html) {
  const aside = /<aside class="popular"[^>]*>([\s\S]*?)<\/aside>/.exec(html);
  if (!aside) throw new Error(`no Popular Reads on the page:\n${html.slice(0, 2000)}`);
  return [...aside[1].matchAll(/<a href="([^"]*)"/g)].map((m) => m[1]);
}

/** A post file's text. */
export function postText({ title = 'T', date = '2026-01-01', summary = 'S.', extra = '', body = 'Body.' } = {}) {
  const q = (s) => JSON.stringify(s);
  return `+++\ntitle = ${q(title)}\ndate = ${date}\nsummary = ${q(summary)}\n${extra}+++\n\n${body}\n`;
}

export { sleep };

/**
 * A request whose path and headers go on the wire as written (harness.rawRequest plus
 * headers and a body). Resolves { status, headers, body }; rejects on a connection error.
 */
export function request(base, rawPath, { method = 'GET', headers = {}, body = null, timeoutMs = 15_000 } = {}) {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: rawPath, method, headers, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout: ${method} ${rawPath}`)));
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/** The directives of a Content-Security-Policy: { name: [sources] }. */
export function cspDirectives(csp) {
  const out = {};
  for (const part of (csp ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out[name.toLowerCase()] = sources;
  }
  return out;
}

/**
 * The security headers every response must carry. `headers` is a fetch Headers or a Node
 * headers object.
 */
export function assertSecurityHeaders(headers, where) {
  const h = (name) => (typeof headers.get === 'function' ? headers.get(name) : headers[name]) ?? null;
  const csp = h('content-security-policy');
  assert.ok(csp, `${where}: no Content-Security-Policy`);
  const d = cspDirectives(csp);
  assert.deepEqual(d['default-src'], ["'none'"], `${where}: default-src is not 'none': ${csp}`);
  assert.ok(!('script-src' in d) && !('script-src-elem' in d) && !('script-src-attr' in d), `${where}: a script-src beyond default-src 'none': ${csp}`);
  assert.doesNotMatch(csp, /'unsafe-eval'/, `${where}: ${csp}`);
  assert.equal(h('x-content-type-options'), 'nosniff', `${where}: x-content-type-options`);
  assert.ok(h('referrer-policy'), `${where}: no referrer-policy`);
  assert.ok(h('permissions-policy'), `${where}: no permissions-policy`);
  assert.match(h('strict-transport-security') ?? '', /max-age=\d{7,}/, `${where}: strict-transport-security`);
  const framing = h('x-frame-options') === 'DENY' || (d['frame-ancestors'] ?? []).join(' ') === "'none'";
  assert.ok(framing, `${where}: framing allowed (x-frame-options ${h('x-frame-options')}, csp ${csp})`);
}
