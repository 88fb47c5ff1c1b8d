// How long `blog sync` waits after writing the `version` key before it returns
// (kv::SYNC_SETTLE_MS in crates/core/src/kv.rs, read from there so there is one number): an isolate
// trusts the version it read for VERSION_RECHECK_MS, so whoever publishes a version by hand
// (the benchmark) waits this long too, and the tests check that sync does.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const KV_RS = fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../crates/core/src/kv.rs'), 'utf8');
const recheck = Number(/pub const VERSION_RECHECK_MS: u64 = (\d+);/.exec(KV_RS)?.[1]);
const margin = Number(/pub const SYNC_SETTLE_MS: u64 = VERSION_RECHECK_MS \+ (\d+);/.exec(KV_RS)?.[1]);
if (!Number.isFinite(recheck + margin)) throw new Error('tests/tools/sync-settle.mjs: VERSION_RECHECK_MS or SYNC_SETTLE_MS not found in crates/core/src/kv.rs');

export const VERSION_RECHECK_MS = recheck;
export const SYNC_SETTLE_MS = recheck + margin;
