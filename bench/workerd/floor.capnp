# The floor of a Rust Worker on workerd alone: bench/floor-worker (the workers-rs SDK doing only
# the KV read limit-kv.js does, answering the same page and headers), with the same in-memory
# KV service as the blog (kv.js). A template: bench/servers.mjs copies it into
# bench/out/workerd/floor/ beside the floor's build, the page, the KV records and the scripts.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .floor), (name = "kv", worker = .kv) ],
  sockets = [ (name = "http", address = "127.0.0.1:8795", http = (), service = "main") ],
);

const floor :Workerd.Worker = (
  modules = [
    (name = "entry.mjs", esModule = embed "entry.mjs"),
    (name = "index.js", esModule = embed "index.js"),
    (name = "index_bg.wasm", wasm = embed "index_bg.wasm"),
  ],
  compatibilityDate = "@DATE@",
  bindings = [
    (name = "POSTS", kvNamespace = "kv"),
    (name = "PAGE", text = embed "page.html"),
    (name = "HEADERS", text = embed "headers.json"),
  ],
);

const kv :Workerd.Worker = (
  modules = [
    (name = "kv.js", esModule = embed "kv.js"),
    (name = "kv.json", json = embed "kv.json"),
  ],
  compatibilityDate = "2024-01-01",
);
