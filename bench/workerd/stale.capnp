# The blog on workerd alone, as blog.capnp, served from several locations at once against
# one KV namespace that is only eventually consistent (stale-kv.js): each location is a
# worker of its own, so an isolate of its own with its own memory, as the isolates of
# different Cloudflare locations are. Location 1 ("main") owns the ReadCounter objects; the
# others reach the same ones, as every location does.
#
# A template: tests/e2e/stale-kv.test.mjs lays out the folder with bench/servers.mjs
# (prepareBlogDir), puts stale-kv.js in kv.js's place and writes this as blog.capnp, with
# @MAIN@, @WASM@ and @DATE@ replaced as there, and the two placeholders of the services and
# sockets lists below by one entry per other location, each
#   (name = "location-N", worker = .location),
#   (name = "http-N", address = "127.0.0.1:PORT", http = (), service = "location-N"),
# workerdBlog then runs it, giving http (location 1), kv-admin and reads-driver their
# addresses on the command line.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .blog),
    @LOCATION_SERVICES@
    (name = "kv", worker = .kv),
    (name = "do-storage", disk = (path = "do-storage", writable = true)),
    (name = "no-cache", worker = .noCache),
    (name = "reads-driver", worker = .readsDriver),
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:8791", http = (), service = "main"),
    @LOCATION_SOCKETS@
    # Writes from the sync's stand-in session, and the staleness settings and logs.
    (name = "kv-admin", address = "127.0.0.1:8792", http = (), service = "kv"),
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
  # The Cache API stores nothing, as on *.workers.dev.
  cacheApiOutbound = "no-cache",
);

# Another location: the same Worker and bindings, the counter objects being main's.
const location :Workerd.Worker = (
  modules = [
    (name = "@MAIN@", esModule = embed "bundle/@MAIN@"),
    (name = "@WASM@", wasm = embed "bundle/@WASM@"),
  ],
  compatibilityDate = "@DATE@",
  bindings = [
    (name = "POSTS", kvNamespace = "kv"),
    (name = "READS", durableObjectNamespace = (className = "ReadCounter", serviceName = "main")),
    (name = "COUNTER_FAULT", fromEnvironment = "COUNTER_FAULT"),
  ],
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

const readsDriver :Workerd.Worker = (
  modules = [ (name = "reads-driver.js", esModule = embed "reads-driver.js") ],
  compatibilityDate = "@DATE@",
  bindings = [
    (name = "READS", durableObjectNamespace = (className = "ReadCounter", serviceName = "main")),
  ],
);
