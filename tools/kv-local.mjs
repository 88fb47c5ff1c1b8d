// The local dev KV namespace for `blog sync`, opened once through Miniflare (as wrangler's
// local `kv` commands and `wrangler dev --persist-to` open it) and kept open for the whole
// sync, so a sync pays Miniflare's start once instead of once a step.
//   node tools/kv-local.mjs PERSIST_DIR NAMESPACE_ID
// Reads one request a line on standard input and answers each with one line of JSON on
// standard output, in order; it ends when standard input closes.
//   {"op":"list"}                                  -> {"ok":true,"keys":[{name,metadata},...]}
//   {"op":"put","file":F}     F: [{key,value,metadata?,base64?,expiration_ttl?},...]
//   {"op":"put-file","key":K,"path":P,"metadata":M} (the file's bytes, as they are)
//   {"op":"delete","file":F}  F: [key,...]
// Writes go one key at a time, in the order given, so a step that dies half way has written
// a prefix of its entries, as the order of a sync requires. A request that fails answers
// {"ok":false,"error":...}; a line that is not a request ends the session with status 2.
import fs from 'node:fs';
import readline from 'node:readline';
import { listKeys, withLocalKv } from './local-kv.mjs';

const [persistTo, namespaceId] = process.argv.slice(2);
if (!persistTo || !namespaceId) {
  console.error('usage: node tools/kv-local.mjs PERSIST_DIR NAMESPACE_ID');
  process.exit(2);
}

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
// Miniflare's put takes a string, an ArrayBuffer or a stream, not a Node Buffer.
const bytes = (buffer) => buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);

async function answer(kv, request) {
  switch (request.op) {
    case 'list':
      return { keys: await listKeys(kv) };
    case 'put':
      for (const entry of readJson(request.file)) {
        const value = entry.base64 ? bytes(Buffer.from(entry.value, 'base64')) : entry.value;
        const options = {};
        if (entry.metadata !== undefined) options.metadata = entry.metadata;
        if (entry.expiration_ttl !== undefined) options.expirationTtl = entry.expiration_ttl;
        if (entry.expiration !== undefined) options.expiration = entry.expiration;
        await kv.put(entry.key, value, options);
      }
      return {};
    case 'put-file': {
      const options = request.metadata === undefined ? {} : { metadata: request.metadata };
      await kv.put(request.key, bytes(fs.readFileSync(request.path)), options);
      return {};
    }
    case 'delete':
      for (const key of readJson(request.file)) await kv.delete(key);
      return {};
    default:
      throw new Error(`unknown request ${JSON.stringify(request.op)}`);
  }
}

await withLocalKv(persistTo, namespaceId, async (kv) => {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let request;
    try {
      request = JSON.parse(line);
    } catch {
      console.error(`kv-local: not a request: ${line.slice(0, 200)}`);
      process.exitCode = 2;
      break;
    }
    let reply;
    try {
      reply = { ok: true, ...(await answer(kv, request)) };
    } catch (e) {
      reply = { ok: false, error: String(e?.message ?? e) };
    }
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  }
});
