#!/usr/bin/env node
// Writes every record of the local dev KV namespace (what `blog sync` wrote into
// `--persist-to DIR`) to OUT as the kv.json that bench/workerd/kv.js serves: the records a
// real sync made, without a second sync through bench/kv-capture.mjs. Values are read as
// text: the generated and real content the benchmark exports has no binary files.
//   node bench/kv-export.mjs PERSIST_DIR NAMESPACE_ID OUT
import fs from 'node:fs';
import { listKeys, withLocalKv } from '../tools/local-kv.mjs';

const [persistTo, namespaceId, out] = process.argv.slice(2);
if (!persistTo || !namespaceId || !out) {
  console.error('usage: node bench/kv-export.mjs PERSIST_DIR NAMESPACE_ID OUT');
  process.exit(2);
}
const records = await withLocalKv(persistTo, namespaceId, async (kv) => {
  const keys = await listKeys(kv);
  const records = [];
  for (let i = 0; i < keys.length; i += 64) {
    const batch = keys.slice(i, i + 64);
    const values = await Promise.all(batch.map((k) => kv.get(k.name, 'text')));
    batch.forEach((k, j) => records.push({ key: k.name, value: values[j], metadata: k.metadata }));
  }
  return records;
});
fs.writeFileSync(out, JSON.stringify(records));
