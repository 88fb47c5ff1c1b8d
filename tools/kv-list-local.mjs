// Lists every key (with metadata) of the local dev KV namespace as JSON, like
// `wrangler kv key list --local`, but following the cursor: wrangler 4.86 returns only the
// first 1,000 keys locally (its remote listing pages through everything).
//   node tools/kv-list-local.mjs PERSIST_DIR NAMESPACE_ID
// PERSIST_DIR is what `wrangler dev --persist-to` takes (default .wrangler/state).

import { listKeys, withLocalKv } from './local-kv.mjs';

const [persistTo, namespaceId] = process.argv.slice(2);
if (!persistTo || !namespaceId) {
  console.error('usage: node tools/kv-list-local.mjs PERSIST_DIR NAMESPACE_ID');
  process.exit(2);
}
const keys = await withLocalKv(persistTo, namespaceId, listKeys);
process.stdout.write(JSON.stringify(keys));
