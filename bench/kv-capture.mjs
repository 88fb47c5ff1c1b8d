#!/usr/bin/env node
// Stands in for the local KV session under `blog sync` (BLOG_NODE=bench/kv-capture.mjs, run as
// `kv-capture.mjs tools/kv-local.mjs PERSIST_DIR NAMESPACE_ID`): answers the session's
// requests, keeping the namespace in PERSIST_DIR/kv.json. The file then holds exactly the
// records sync would have written to KV, and workerd run directly loads it
// (bench/workerd/kv.js).
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const [, persist] = process.argv.slice(2);
if (!persist) {
  console.error('usage: kv-capture.mjs tools/kv-local.mjs PERSIST_DIR NAMESPACE_ID');
  process.exit(2);
}
const file = path.join(persist, 'kv.json');
const records = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : [];
const byKey = new Map(records.map((r) => [r.key, r]));
const save = () => {
  fs.mkdirSync(persist, { recursive: true });
  fs.writeFileSync(file, JSON.stringify([...byKey.values()]));
};
const readJson = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));

for await (const line of readline.createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const request = JSON.parse(line);
  let reply = { ok: true };
  if (request.op === 'list') {
    reply.keys = [...byKey.values()].map((r) => ({ name: r.key, metadata: r.metadata }));
  } else if (request.op === 'put') {
    for (const entry of readJson(request.file)) byKey.set(entry.key, entry);
    save();
  } else if (request.op === 'put-file') {
    const value = fs.readFileSync(request.path).toString('base64');
    byKey.set(request.key, { key: request.key, value, base64: true, metadata: request.metadata });
    save();
  } else if (request.op === 'delete') {
    for (const key of readJson(request.file)) byKey.delete(key);
    save();
  } else {
    reply = { ok: false, error: `kv-capture: unsupported request ${line}` };
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}
