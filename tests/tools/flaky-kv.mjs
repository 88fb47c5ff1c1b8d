#!/usr/bin/env node
// A stand-in for the node that runs `blog sync`'s local KV session (`BLOG_NODE`): runs the
// real session (tools/kv-local.mjs) behind it, passes every request and answer through, logs
// each request as a call, and can fail or hang on one chosen call. Used by
// tests/e2e/sync-interrupted.test.mjs and tests/e2e/caching.test.mjs.
//
//   FLAKY_STATE=DIR          where the log lives (required; one per run)
//   FLAKY_FAIL_ON=N          call N prints an error and exits 1 without passing it on
//   FLAKY_FAIL_AFTER_ON=N    call N is answered, then the session exits 1 anyway (done, but
//                            the answer was lost)
//   FLAKY_HANG_ON=N          call N hangs (a child `sleep`, as a real step's child would)
//   FLAKY_HANG_SECONDS=S     how long a hang lasts (default 600)
//   REAL_NODE=PATH           the real node (default: node)
//
// The log ($FLAKY_STATE/log) has one line per event: `<ms> start <n> <what>` and
// `<ms> end <n> <status>`, <what> as wrangler would name the step (`kv key list`,
// `kv bulk put`, `kv key put`, `kv bulk delete`).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const state = process.env.FLAKY_STATE;
if (!state) {
  console.error('flaky-kv: FLAKY_STATE must name a folder');
  process.exit(2);
}
fs.mkdirSync(state, { recursive: true });
const log = (line) => fs.appendFileSync(path.join(state, 'log'), `${Date.now()} ${line}\n`);
const NAMES = { list: 'kv key list', put: 'kv bulk put', 'put-file': 'kv key put', delete: 'kv bulk delete' };
const chosen = (name) => Number(process.env[name] ?? 0);

const real = spawn(process.env.REAL_NODE ?? 'node', process.argv.slice(2), { stdio: ['pipe', 'pipe', 'inherit'] });
const answers = readline.createInterface({ input: real.stdout });
const pending = [];
answers.on('line', (line) => pending.shift()?.(line));
const answerOf = () => new Promise((resolve) => pending.push(resolve));
real.on('exit', (code) => {
  for (const resolve of pending.splice(0)) resolve(null);
  if (code) process.exit(code);
});

let n = 0;
const requests = readline.createInterface({ input: process.stdin });
for await (const line of requests) {
  if (!line.trim()) continue;
  n += 1;
  let what;
  try {
    what = NAMES[JSON.parse(line).op] ?? 'unknown';
  } catch {
    what = 'unknown';
  }
  log(`start ${n} ${what}`);
  if (chosen('FLAKY_HANG_ON') === n) {
    const seconds = process.env.FLAKY_HANG_SECONDS ?? '600';
    await new Promise((resolve) => spawn('sleep', [seconds], { stdio: 'ignore' }).on('exit', resolve));
  }
  if (chosen('FLAKY_FAIL_ON') === n) {
    console.error(`flaky-kv: injected failure of call ${n} (${what})`);
    log(`end ${n} 1`);
    real.kill('SIGKILL');
    process.exit(1);
  }
  const answer = answerOf();
  real.stdin.write(`${line}\n`);
  const reply = await answer;
  if (reply === null) {
    log(`end ${n} 1`);
    process.exit(1);
  }
  if (chosen('FLAKY_FAIL_AFTER_ON') === n) {
    console.error(`flaky-kv: call ${n} (${what}) ran, then failed`);
    log(`end ${n} 1`);
    real.kill('SIGKILL');
    process.exit(1);
  }
  log(`end ${n} ${JSON.parse(reply).ok ? 0 : 1}`);
  process.stdout.write(`${reply}\n`);
}
real.stdin.end();
await new Promise((resolve) => real.on('close', resolve));
