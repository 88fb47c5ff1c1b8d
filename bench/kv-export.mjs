#!/usr/bin/env node
// Writes every record of the local dev KV namespace (what `blog sync` wrote into
// `--persist-to DIR`) to OUT as the kv.json that bench/workerd/kv.js serves: the records a
// real sync made, without a second sync through bench/kv-capture.mjs.
//   node bench/kv-export.mjs PERSIST_DIR NAMESPACE_ID OUT
// Reads the storage with the options wrangler's local KV commands use (as
// tools/kv-list-local.mjs does).
import fs from 'node:fs';
import path from 'node:path';
import { Miniflare } from 'miniflare';

const [persistTo, namespaceId, out] = process.argv.slice(2);
if (!persistTo || !namespaceId || !out) {
  console.error('usage: node bench/kv-export.mjs PERSIST_DIR NAMESPACE_ID OUT');
  process.exit(2);
}
const mf = new Miniflare({
  script: 'addEventListener("fetch", (e) => e.respondWith(new Response(null, { status: 404 })))',
  defaultPersistRoot: path.join(path.resolve(persistTo), 'v3'),
  kvNamespaces: { NAMESPACE: namespaceId },
});
try {
  const kv = await mf.getKVNamespace('NAMESPACE');
  const keys = [];
  let cursor;
  do {
    const page = await kv.list({ cursor });
    keys.push(...page.keys);
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  const records = [];
  for (let i = 0; i < keys.length; i += 64) {
    const batch = keys.slice(i, i + 64);
    const values = await Promise.all(batch.map((k) => kv.get(k.name, 'text')));
    batch.forEach((k, j) => records.push({ key: k.name, value: values[j], metadata: k.metadata }));
  }
  fs.writeFileSync(out, JSON.stringify(records));
} finally {
  await mf.dispose();
}
