// Processes for the benchmark: commands run to completion, servers in their own process
// groups (killed on the way out whatever happens), free ports.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, portIsFree } from '../tests/tools/ports.mjs';

export { freePort, portIsFree };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OUT = path.join(ROOT, 'bench/out');
export const BLOG = path.join(ROOT, 'target/release/blog');
export const WRANGLER = path.join(ROOT, 'node_modules/.bin/wrangler');
export const WORKERD = path.join(ROOT, 'node_modules/.bin/workerd');

export const ENV = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' };

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Process groups still running. */
const live = new Set();
process.on('exit', () => {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));

/** Runs a command to completion: { code, stdout, stderr, ms }. */
export function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd: ROOT, env: ENV, stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? `signal ${signal}`, stdout, stderr, ms: performance.now() - started }),
    );
  });
}

/** Like `run`, but fails with the command's output unless it exits 0. */
export async function runOk(cmd, args, options = {}) {
  const result = await run(cmd, args, options);
  if (result.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${result.code}):\n${result.stdout}${result.stderr}`);
  }
  return result;
}

/**
 * Starts a long-running process in its own group, its output going straight to `logFile`
 * (no pipe through this process, so a chatty server costs the benchmark nothing).
 */
export function startGroup(cmd, args, { cwd = ROOT, env = ENV, logFile }) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', fd, fd], detached: true });
  fs.closeSync(fd);
  live.add(child.pid);
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.exited.then(() => live.delete(child.pid));
  return child;
}

/** Ends a process group: SIGTERM then, after `graceMs`, SIGKILL (SIGKILL at once if asked). */
export async function stopGroup(child, { signal = 'SIGTERM', graceMs = 5000 } = {}) {
  if (!child || !live.has(child.pid)) return;
  try {
    process.kill(-child.pid, signal);
  } catch {}
  if (signal !== 'SIGKILL') {
    await Promise.race([child.exited, sleep(graceMs)]);
  }
  // workerd may outlive wrangler; the whole group goes either way.
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {}
  await child.exited;
  live.delete(child.pid);
}

/** The last `chars` of a log file, for error messages. */
export function tail(file, chars = 3000) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-chars);
  } catch {
    return '(no log)';
  }
}
