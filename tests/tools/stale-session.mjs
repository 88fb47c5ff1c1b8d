#!/usr/bin/env node
// Stands in for the local KV session under `blog sync` (BLOG_NODE=tests/tools/stale-session.mjs,
// run as `stale-session.mjs tools/kv-local.mjs PERSIST_DIR NAMESPACE_ID`, both ignored): the
// sync's requests, in the sync's own order, become HTTP calls on the kv-admin socket of the
// eventually consistent KV (bench/workerd/stale-kv.js, or kv.js), at STALE_KV_ADMIN
// (http://127.0.0.1:PORT). The protocol is tools/kv-local.mjs's: one JSON request a line on
// standard input, one JSON answer a line on standard output.
//   {"op":"list"}                                  -> {"ok":true,"keys":[{name,metadata},...]}
//   {"op":"put","file":F}     F: [{key,value,metadata?,base64?},...], written one at a time, in order
//   {"op":"put-file","key":K,"path":P,"metadata":M} (the file's bytes, as they are)
//   {"op":"delete","file":F}  F: [key,...], deleted one at a time, in order
// A request that fails answers {"ok":false,"error":...}.
import fs from 'node:fs';
import readline from 'node:readline';

const admin = process.env.STALE_KV_ADMIN;
if (!admin) {
  console.error('stale-session: STALE_KV_ADMIN (the KV service\'s kv-admin address) is not set');
  process.exit(2);
}

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
const keyUrl = (key) => `${admin}/${encodeURIComponent(key)}?urlencoded=true`;

async function call(method, url, { body, headers } = {}) {
  const res = await fetch(url, { method, body, headers });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 200)}`);
  return text;
}

function put(key, value, metadata) {
  const headers = metadata === undefined ? {} : { 'CF-KV-Metadata': JSON.stringify(metadata) };
  return call('PUT', keyUrl(key), { body: value, headers });
}

async function answer(request) {
  switch (request.op) {
    case 'list': {
      // The service lists metadata as JSON text (the binding's wire); sync wants objects.
      const { keys } = JSON.parse(await call('GET', `${admin}/?prefix=`));
      return {
        keys: keys.map((k) => ({ name: k.name, metadata: typeof k.metadata === 'string' ? JSON.parse(k.metadata) : (k.metadata ?? null) })),
      };
    }
    case 'put':
      for (const entry of readJson(request.file)) {
        await put(entry.key, entry.base64 ? Buffer.from(entry.value, 'base64') : entry.value, entry.metadata);
      }
      return {};
    case 'put-file':
      await put(request.key, fs.readFileSync(request.path), request.metadata);
      return {};
    case 'delete':
      for (const key of readJson(request.file)) await call('DELETE', keyUrl(key));
      return {};
    default:
      throw new Error(`unknown request ${JSON.stringify(request.op)}`);
  }
}

for await (const line of readline.createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (!line.trim()) continue;
  let reply;
  try {
    reply = { ok: true, ...(await answer(JSON.parse(line))) };
  } catch (e) {
    reply = { ok: false, error: `stale-session: ${e?.message ?? e}` };
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}
