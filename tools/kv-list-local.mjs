// Lists every key (with metadata) of the local dev KV namespace as JSON, like
// `wrangler kv key list --local`, but following the cursor: wrangler 4.86 returns only the
// first 1,000 keys locally (its remote listing pages through everything).
//   node tools/kv-list-local.mjs PERSIST_DIR NAMESPACE_ID
// PERSIST_DIR is what `wrangler dev --persist-to` takes (default .wrangler/state).

import path from 'node:path';
import { Miniflare } from 'miniflare';

const [persistTo, namespaceId] = process.argv.slice(2);
if (!persistTo || !namespaceId) {
  console.error('usage: node tools/kv-list-local.mjs PERSIST_DIR NAMESPACE_ID');
  process.exit(2);
}
// The same options wrangler's own local KV commands use, so the same storage is read.
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
  process.stdout.write(JSON.stringify(keys));
} finally {
  await mf.dispose();
}
