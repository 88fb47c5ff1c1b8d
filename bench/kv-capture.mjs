#!/usr/bin/env node
// Stands in for wrangler under `blog sync` (BLOG_WRANGLER=bench/kv-capture.mjs): answers the
// `wrangler kv` commands sync uses, keeping the namespace in PERSIST_DIR/kv.json. The file then
// holds exactly the records sync would have written to KV, and workerd run directly loads it
// (bench/workerd/kv.js). Only local use: `--persist-to DIR` is required.
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const persist = args[args.indexOf('--persist-to') + 1];
if (args[0] !== 'kv' || !args.includes('--persist-to') || !persist) {
  console.error(`kv-capture: unsupported: ${args.join(' ')}`);
  process.exit(2);
}
const file = path.join(persist, 'kv.json');
const records = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : [];
const byKey = new Map(records.map((r) => [r.key, r]));
const save = () => {
  fs.mkdirSync(persist, { recursive: true });
  fs.writeFileSync(file, JSON.stringify([...byKey.values()]));
};

const [, group, verb, operand] = args;
if (group === 'key' && verb === 'list') {
  console.log(JSON.stringify([...byKey.values()].map((r) => ({ name: r.key, metadata: r.metadata }))));
} else if (group === 'bulk' && verb === 'put') {
  for (const entry of JSON.parse(fs.readFileSync(operand, 'utf8'))) byKey.set(entry.key, entry);
  save();
} else if (group === 'bulk' && verb === 'delete') {
  for (const key of JSON.parse(fs.readFileSync(operand, 'utf8'))) byKey.delete(key);
  save();
} else {
  console.error(`kv-capture: unsupported: ${args.join(' ')}`);
  process.exit(2);
}
