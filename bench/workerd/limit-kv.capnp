# "Limit + one KV read" on workerd alone: bench/workerd/limit-kv.js with the same in-memory KV
# service as the blog (kv.js). A template: bench/servers.mjs copies it into
# bench/out/workerd/limit-kv/ beside the page, the KV records and the scripts.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .limitKv), (name = "kv", worker = .kv) ],
  sockets = [ (name = "http", address = "127.0.0.1:8793", http = (), service = "main") ],
);

const limitKv :Workerd.Worker = (
  modules = [
    (name = "limit-kv.js", esModule = embed "limit-kv.js"),
    (name = "page.html", text = embed "page.html"),
    (name = "headers.json", json = embed "headers.json"),
  ],
  compatibilityDate = "@DATE@",
  bindings = [ (name = "POSTS", kvNamespace = "kv") ],
);

const kv :Workerd.Worker = (
  modules = [
    (name = "kv.js", esModule = embed "kv.js"),
    (name = "kv.json", json = embed "kv.json"),
  ],
  compatibilityDate = "2024-01-01",
);
