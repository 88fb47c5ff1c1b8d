# The limit worker on workerd alone, with no wrangler proxy in front.
#   node_modules/.bin/workerd serve bench/workerd/limit.capnp --socket-addr http=127.0.0.1:PORT
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .limit) ],
  sockets = [ (name = "http", address = "127.0.0.1:8790", http = (), service = "main") ],
);

const limit :Workerd.Worker = (
  modules = [
    (name = "index.js", esModule = embed "../limit-worker/index.js"),
    (name = "page.html", text = embed "../limit-worker/page.html"),
    (name = "headers.json", json = embed "../limit-worker/headers.json"),
  ],
  compatibilityDate = "2026-04-26",
);
