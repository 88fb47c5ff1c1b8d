// Load generators. `wrk` (C, one thread) for fixed-duration throughput and latency, so the
// client is never the bottleneck; an undici pool for fixed-count runs, where every request
// must be answered and counted (uncached rounds over distinct posts, reads to count).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'undici';
import { OUT, ROOT, run } from './proc.mjs';

export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const READERS_LUA = path.join(ROOT, 'bench/readers.lua');
const PATHS_LUA = path.join(ROOT, 'bench/paths.lua');

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Parses wrk's report (with --latency). */
export function parseWrk(text) {
  const num = (re) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : NaN;
  };
  const latency = {};
  for (const m of text.matchAll(/^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$/gm)) {
    latency[`p${m[1]}`] = Number(m[2]) * UNIT_MS[m[3]];
  }
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
    socketErrors: socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    ...latency,
  };
}

/** `-H Host: ...`: the host the worker sees in request.url (workerd direct keeps it). */
const hostHeader = (host) => (host ? ['-H', `Host: ${host}`] : []);

/**
 * `wrk -t1 -cC -dDs --latency URL`; `host` sets the Host header; `readers` makes every request a new reader (browser user
 * agent, own address; bench/readers.lua), `run` keeps those addresses apart between runs.
 */
export async function wrk(url, { connections = 32, seconds = 8, readers = false, runId = 1, host = null } = {}) {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '--latency', ...hostHeader(host)];
  if (readers) args.push('-s', READERS_LUA);
  args.push(url);
  const result = await run('wrk', args, { env: { ...process.env, BENCH_READER_RUN: String(runId) } });
  if (result.code !== 0) throw new Error(`wrk ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  const parsed = parseWrk(result.stdout);
  if (!Number.isFinite(parsed.rps)) throw new Error(`cannot read wrk's report:\n${result.stdout}`);
  return parsed;
}

/**
 * wrk over a list of paths, each requested once, until `n` responses have come back
 * (bench/paths.lua). Resolves { n, ms, rps, non200, sent }.
 */
export async function wrkCount(origin, paths, n, { connections = 32, host = null } = {}) {
  if (paths.length < n + connections) throw new Error(`wrkCount: ${paths.length} paths for ${n} requests`);
  const file = path.join(OUT, 'paths.txt');
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(file, paths.join('\n') + '\n');
  const args = ['-t1', `-c${connections}`, '-d600s', '--timeout', '10s', ...hostHeader(host), '-s', PATHS_LUA, `${origin}/`];
  const child = spawn('wrk', args, {
    env: { ...process.env, BENCH_PATHS: file, BENCH_N: String(n) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const line = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wrkCount: no result after 300 s:\n${out}`)), 300_000);
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const m = /BENCH_DONE n=(\d+) ms=([\d.]+) sent=(\d+) non200=(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`wrk exited (${code}) before its result:\n${out}`));
    });
  });
  child.removeAllListeners('exit');
  child.kill('SIGKILL');
  const [, got, ms, sent, non200] = line.map(Number);
  return { n: got, ms, rps: (got / ms) * 1000, sent, non200 };
}

/**
 * Sends exactly `paths.length` GETs, `concurrency` at a time over kept-alive connections, and
 * waits for every answer. `headers(i)` gives request i's headers. Resolves
 * { n, ms, rps, statuses, p50, p99, latencies } (latencies in ms, request i's at i).
 */
export async function fixedCount(origin, paths, { concurrency = 32, headers = () => ({}) } = {}) {
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const statuses = {};
  const latencies = new Float64Array(paths.length);
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < paths.length) {
      const i = next++;
      const t0 = performance.now();
      const res = await pool.request({ path: paths[i], method: 'GET', headers: headers(i) });
      await res.body.dump({ limit: Infinity });
      latencies[i] = performance.now() - t0;
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  const ms = performance.now() - started;
  await pool.close();
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: paths.length, ms, rps: (paths.length / ms) * 1000, statuses, p50: at(0.5), p99: at(0.99), latencies };
}

/** Headers of reader `i` of run `runId`: a browser, at an address of its own. */
export function readerHeaders(runId) {
  return (i) => ({ 'user-agent': BROWSER_UA, 'cf-connecting-ip': `2001:db8:${runId.toString(16)}::${i.toString(16)}` });
}
