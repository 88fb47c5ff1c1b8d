// The servers the benchmark measures: `wrangler dev` (workerd behind wrangler's proxy, as
// `make dev` and the e2e tests run it) and workerd run directly from a capnp config.
import fs from 'node:fs';
import path from 'node:path';
import { ENV, OUT, ROOT, WORKERD, WRANGLER, freePort, portIsFree, runOk, sleep, startGroup, stopGroup, tail } from './proc.mjs';

const READY_TIMEOUT_MS = 120_000;

async function waitReady(site, child) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = null;
  child.exited.then((e) => (exited = e));
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${site.name} exited (${JSON.stringify(exited)}) before it was ready:\n${tail(site.logFile)}`);
    try {
      const res = await fetch(`${site.base}${site.readyPath}`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `answered ${res.status}`;
    } catch (e) {
      last = String(e.cause?.code ?? e.message);
    }
    await sleep(200);
  }
  throw new Error(`${site.name} was not ready after ${READY_TIMEOUT_MS / 1000} s (${last}):\n${tail(site.logFile)}`);
}

function makeSite({ name, runtime, port, logFile, readyPath = '/', launch }) {
  const site = {
    name,
    runtime,
    port,
    base: `http://127.0.0.1:${port}`,
    logFile,
    readyPath,
    child: null,
    async start() {
      site.child = launch();
      await waitReady(site, site.child);
      return site;
    },
    async stop() {
      await stopGroup(site.child);
      site.child = null;
    },
    /** Gone at once, as when an isolate's machine dies: nothing gets to finish. */
    async kill() {
      await stopGroup(site.child, { signal: 'SIGKILL' });
      site.child = null;
    },
    async restart() {
      await site.stop();
      for (let i = 0; i < 80 && !(await portIsFree(port)); i++) await sleep(250);
      return site.start();
    },
  };
  return site;
}

/**
 * `wrangler dev` with the flags the e2e harness uses. `config` is a wrangler.toml (the
 * project's by default); `vars` become `--var NAME:VALUE`.
 */
export async function wranglerSite({ name, config, stateDir, vars = {} }, attempt = 1) {
  const port = await freePort();
  const inspectorPort = await freePort();
  const logFile = path.join(OUT, 'logs', `${name}.log`);
  const args = [
    'dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--inspector-port', String(inspectorPort),
    '--persist-to', stateDir,
    '--show-interactive-dev-session=false',
    ...(config ? ['--config', config] : []),
    ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
  ];
  const site = makeSite({
    name,
    runtime: 'wrangler',
    port,
    logFile,
    launch: () => startGroup(WRANGLER, args, { cwd: ROOT, logFile }),
  });
  site.stateDir = stateDir;
  try {
    return await site.start();
  } catch (e) {
    // Servers start side by side, and each workerd binds ports of its own: the port taken
    // between freePort() and the bind is the only failure worth another try.
    if (attempt > 1 || !/Address already in use/.test(e.message)) throw e;
    await site.stop();
    return wranglerSite({ name, config, stateDir, vars }, attempt + 1);
  }
}

/** The compatibility date workerd runs a worker at: the project's, unless this workerd is older. */
export function compatibilityDate(workerdVersion) {
  const toml = fs.readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8');
  const wanted = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)[1];
  const supported = /(\d{4}-\d{2}-\d{2})/.exec(workerdVersion)?.[1] ?? wanted;
  return wanted < supported ? wanted : supported;
}

/**
 * Lays out bench/out/workerd/NAME for bench/workerd/blog.capnp: the dry-run bundle, the KV
 * records sync wrote (`kvJson`, from bench/kv-capture.mjs), an empty Durable Object folder.
 */
export function prepareBlogDir(name, { bundleDir, kvJson, date }) {
  const dir = path.join(OUT, 'workerd', name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'bundle'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'do'), { recursive: true });
  let wasm = null;
  let main = null;
  for (const file of fs.readdirSync(bundleDir)) {
    if (file.endsWith('.wasm')) wasm = file;
    if (file.endsWith('.js')) main = file;
    if (file.endsWith('.js') || file.endsWith('.wasm')) fs.copyFileSync(path.join(bundleDir, file), path.join(dir, 'bundle', file));
  }
  if (!wasm || !main) throw new Error(`no .wasm or .js module in ${bundleDir}`);
  for (const file of ['kv.js', 'no-cache.js', 'reads-driver.js']) fs.copyFileSync(path.join(ROOT, 'bench/workerd', file), path.join(dir, file));
  fs.copyFileSync(kvJson, path.join(dir, 'kv.json'));
  const template = fs.readFileSync(path.join(ROOT, 'bench/workerd/blog.capnp'), 'utf8');
  fs.writeFileSync(path.join(dir, 'blog.capnp'), template.replaceAll('@WASM@', wasm).replaceAll('@MAIN@', main).replaceAll('@DATE@', date));
  return dir;
}

/** The blog on workerd alone (see bench/workerd/blog.capnp). `fault` sets COUNTER_FAULT. */
export async function workerdBlog({ name, dir, fault = '', readyPath = '/' }) {
  const port = await freePort();
  const adminPort = await freePort();
  const driverPort = await freePort();
  const logFile = path.join(OUT, 'logs', `${name}.log`);
  const args = [
    'serve', 'blog.capnp',
    '--socket-addr', `http=127.0.0.1:${port}`,
    '--socket-addr', `kv-admin=127.0.0.1:${adminPort}`,
    '--socket-addr', `reads-driver=127.0.0.1:${driverPort}`,
    '--directory-path', `do-storage=${path.join(dir, 'do')}`,
  ];
  const site = makeSite({
    name,
    runtime: 'workerd',
    port,
    logFile,
    readyPath,
    launch: () => startGroup(WORKERD, args, { cwd: dir, env: { ...ENV, COUNTER_FAULT: fault }, logFile }),
  });
  site.dir = dir;
  site.admin = `http://127.0.0.1:${adminPort}`;
  /** Bench-only driver of the ReadCounter objects (bench/workerd/reads-driver.js). */
  site.driver = `http://127.0.0.1:${driverPort}`;
  return site.start();
}

/** The limit worker on workerd alone (bench/workerd/limit.capnp). */
export async function workerdLimit({ name }) {
  const port = await freePort();
  const logFile = path.join(OUT, 'logs', `${name}.log`);
  const args = ['serve', path.join(ROOT, 'bench/workerd/limit.capnp'), '--socket-addr', `http=127.0.0.1:${port}`];
  const site = makeSite({ name, runtime: 'workerd', port, logFile, launch: () => startGroup(WORKERD, args, { logFile }) });
  return site.start();
}

/**
 * "Limit + one KV read": the limit worker reading the `version` key on every request, as the
 * blog does; a reference that shows how much of the gap to the limit that one read is.
 */
export async function workerdLimitKv({ name, kvJson, date }) {
  const dir = path.join(OUT, 'workerd', name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const file of ['page.html', 'headers.json']) fs.copyFileSync(path.join(ROOT, 'bench/limit-worker', file), path.join(dir, file));
  fs.copyFileSync(path.join(ROOT, 'bench/workerd/kv.js'), path.join(dir, 'kv.js'));
  fs.copyFileSync(kvJson, path.join(dir, 'kv.json'));
  fs.copyFileSync(path.join(ROOT, 'bench/workerd/limit-kv.js'), path.join(dir, 'limit-kv.js'));
  const template = fs.readFileSync(path.join(ROOT, 'bench/workerd/limit-kv.capnp'), 'utf8');
  fs.writeFileSync(path.join(dir, 'limit-kv.capnp'), template.replaceAll('@DATE@', date));
  const port = await freePort();
  const logFile = path.join(OUT, 'logs', `${name}.log`);
  const args = ['serve', 'limit-kv.capnp', '--socket-addr', `http=127.0.0.1:${port}`];
  const site = makeSite({ name, runtime: 'workerd', port, logFile, launch: () => startGroup(WORKERD, args, { cwd: dir, logFile }) });
  return site.start();
}

/**
 * The floor of a Rust Worker (bench/floor-worker, bench/workerd/floor.capnp): built with the
 * blog's own build script and profile, so its wasm differs from the blog's only by the code.
 */
export async function workerdFloor({ name, kvJson, date }) {
  const dir = path.join(OUT, 'workerd', name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const build = path.join(OUT, 'floor-build');
  await runOk(path.join(ROOT, 'tools/build-worker.sh'), [], { env: { ...ENV, WORKER_CRATE: 'blog-bench-floor', WORKER_OUT: build } });
  for (const file of ['index.js', 'index_bg.wasm']) fs.copyFileSync(path.join(build, file), path.join(dir, file));
  fs.copyFileSync(path.join(ROOT, 'bench/floor-worker/entry.mjs'), path.join(dir, 'entry.mjs'));
  for (const file of ['page.html', 'headers.json']) fs.copyFileSync(path.join(ROOT, 'bench/limit-worker', file), path.join(dir, file));
  fs.copyFileSync(path.join(ROOT, 'bench/workerd/kv.js'), path.join(dir, 'kv.js'));
  fs.copyFileSync(kvJson, path.join(dir, 'kv.json'));
  const template = fs.readFileSync(path.join(ROOT, 'bench/workerd/floor.capnp'), 'utf8');
  fs.writeFileSync(path.join(dir, 'floor.capnp'), template.replaceAll('@DATE@', date));
  const port = await freePort();
  const logFile = path.join(OUT, 'logs', `${name}.log`);
  const args = ['serve', 'floor.capnp', '--socket-addr', `http=127.0.0.1:${port}`];
  const site = makeSite({ name, runtime: 'workerd', port, logFile, launch: () => startGroup(WORKERD, args, { cwd: dir, logFile }) });
  return site.start();
}
