// The local dev KV namespace, as `wrangler dev --persist-to DIR` and wrangler's local `kv`
// commands keep it: opened through Miniflare with the options they use, so the same storage
// is read. Used by kv-local.mjs (for `blog sync`) and bench/kv-export.mjs;
// tests/tools/snapshot.mjs opens the Miniflare of the checkout it snapshots instead.
import path from 'node:path';
import { Miniflare } from 'miniflare';

/** Calls `use(kv)` with the namespace `namespaceId` under `persistTo`, then closes it. */
export async function withLocalKv(persistTo, namespaceId, use) {
  const mf = new Miniflare({
    script: 'addEventListener("fetch", (e) => e.respondWith(new Response(null, { status: 404 })))',
    defaultPersistRoot: path.join(path.resolve(persistTo), 'v3'),
    kvNamespaces: { NAMESPACE: namespaceId },
  });
  try {
    return await use(await mf.getKVNamespace('NAMESPACE'));
  } finally {
    await mf.dispose();
  }
}

/** Every key with its metadata, following the cursor past each page of 1,000. */
export async function listKeys(kv) {
  const keys = [];
  let cursor;
  do {
    const page = await kv.list({ cursor });
    keys.push(...page.keys);
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return keys;
}
