# The blog on workerd alone, with no wrangler proxy in front: the exact bundle
# `wrangler deploy --dry-run --outdir` produces, a KV namespace served from memory by
# kv.js, and the ReadCounter Durable Object on SQLite in a folder on disk.
#
# A template: bench/servers.mjs (prepareBlogDir) copies it into bench/out/workerd/SITE/ beside the bundle
# (bundle/), the KV records (kv.json), kv.js and no-cache.js, with @MAIN@ and @WASM@ replaced by the
# names of the bundle's JavaScript and wasm modules, then runs
#   workerd serve blog.capnp --socket-addr http=127.0.0.1:PORT --socket-addr kv-admin=127.0.0.1:PORT2 \
#     --socket-addr reads-driver=127.0.0.1:PORT3 --directory-path do-storage=STATE_DIR
# COUNTER_FAULT comes from the environment, as `wrangler dev --var COUNTER_FAULT:...` would set
# it; it must be set (empty for no fault): workerd binds an unset variable as null.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .blog),
    (name = "kv", worker = .kv),
    (name = "do-storage", disk = (path = "do-storage", writable = true)),
    (name = "no-cache", worker = .noCache),
    (name = "reads-driver", worker = .readsDriver),
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:8791", http = (), service = "main"),
    # Lets the benchmark publish a new content version (PUT index, version) as a sync would.
    (name = "kv-admin", address = "127.0.0.1:8792", http = (), service = "kv"),
    # Bench-only: calls the blog's ReadCounter objects directly (reads-driver.js).
    (name = "reads-driver", address = "127.0.0.1:8794", http = (), service = "reads-driver"),
  ],
);

const blog :Workerd.Worker = (
  modules = [
    (name = "@MAIN@", esModule = embed "bundle/@MAIN@"),
    (name = "@WASM@", wasm = embed "bundle/@WASM@"),
  ],
  compatibilityDate = "@DATE@",
  bindings = [
    (name = "POSTS", kvNamespace = "kv"),
    (name = "READS", durableObjectNamespace = (className = "ReadCounter")),
    (name = "COUNTER_FAULT", fromEnvironment = "COUNTER_FAULT"),
  ],
  durableObjectNamespaces = [
    (className = "ReadCounter", uniqueKey = "blog-ReadCounter", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "do-storage"),
  # The Cache API stores nothing, as on *.workers.dev (wrangler dev keeps a real one).
  cacheApiOutbound = "no-cache",
);

const kv :Workerd.Worker = (
  modules = [
    (name = "kv.js", esModule = embed "kv.js"),
    (name = "kv.json", json = embed "kv.json"),
  ],
  compatibilityDate = "2024-01-01",
);

const noCache :Workerd.Worker = (
  modules = [ (name = "no-cache.js", esModule = embed "no-cache.js") ],
  compatibilityDate = "2024-01-01",
);

# Bench-only, not shipped: sends hit batches to the blog's own ReadCounter objects exactly as
# the Worker's counter client does, to measure the counting path apart from page serving.
# serviceName makes it the "main" service's namespace: the same objects and SQLite files.
const readsDriver :Workerd.Worker = (
  modules = [ (name = "reads-driver.js", esModule = embed "reads-driver.js") ],
  compatibilityDate = "@DATE@",
  bindings = [
    (name = "READS", durableObjectNamespace = (className = "ReadCounter", serviceName = "main")),
  ],
);
