#!/usr/bin/env bash
# Builds the Worker into build/: what `make build` runs (and so `wrangler dev` and `wrangler
# deploy`, through wrangler.toml's [build]). It does what worker-build 0.8.7 did for this
# crate, in five steps, without its shim:
#
#   1. cargo     the crate for wasm32, `worker` profile (opt-level 3, LTO, one codegen unit)
#   2. bindgen   crates/bindgen (wasm-bindgen's own library, Cargo.lock's version) writes
#                index.js and index_bg.wasm for `--target module`, with the glue that makes
#                the instance again after an abort (reset-state function, abort handler);
#                `import source` becomes a plain wasm import, which wrangler bundles as a
#                compiled module
#   3. wasm-opt  binaryen's, with worker-build's flags: -O, an explicit feature list (no
#                encodings workerd may not read yet), the names section kept for stack traces
#   4. names     tools/short-names.mjs drops the `::h0123456789abcdef` hash from each function
#                name: stack traces keep every function's path, and the bundle loses 17 KB
#                of gzip (the hashes are random, so they were half of what names cost)
#   5. esbuild   bundles index.js with the JS snippets it imports into one minified module,
#                as worker-build's bundling step did (the wasm stays a separate module)
#
# The output is build/index.js and build/index_bg.wasm; src/entry.mjs (wrangler's `main`)
# imports build/index.js. The wasm is worker-build's but for the shorter names and one
# producers entry it added (`sdk: workers-rs`, metadata only). Everything is written to build/.tmp
# and moved into build/ at the end, under a lock, so a build that fails or runs alongside
# another never leaves a half-written build/ behind. Each step prints its time.
#
# Tools, by environment variable (the Makefile sets them):
#   BINDGEN_BIN       default target/tools/debug/blog-bindgen   (make builds it)
#   WASM_OPT_BIN      default node_modules/.bin/wasm-opt   (npm package binaryen)
#   ESBUILD_BIN       default node_modules/.bin/esbuild
#   CARGO_TARGET_DIR  default target
#   WORKER_CRATE      default blog-worker (make bench builds bench/floor-worker's with it)
#   WORKER_OUT        default build
set -euo pipefail
cd "$(dirname "$0")/.."

BINDGEN_BIN=${BINDGEN_BIN:-target/tools/debug/blog-bindgen}
WASM_OPT_BIN=${WASM_OPT_BIN:-node_modules/.bin/wasm-opt}
ESBUILD_BIN=${ESBUILD_BIN:-node_modules/.bin/esbuild}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
CRATE=${WORKER_CRATE:-blog-worker}
OUT=${WORKER_OUT:-build}
STAGE=$OUT/.tmp

fail() { echo "build-worker: $*" >&2; exit 1; }

if [[ ${1:-} != cargo ]]; then
  # One Cargo.lock pins the library and crates/bindgen's wasm-bindgen-cli-support to one
  # version, so the glue is always written by the version whose macros wrote the wasm.
  [[ -x $BINDGEN_BIN ]] || fail "no blog-bindgen at $BINDGEN_BIN (make tools builds it)"
  [[ -x $WASM_OPT_BIN ]] || fail "no wasm-opt at $WASM_OPT_BIN (npm ci installs binaryen)"
  [[ -x $ESBUILD_BIN ]] || fail "no esbuild at $ESBUILD_BIN (npm ci installs it)"
fi

mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock 9

step_started=0
step() { step_started=$(date +%s%N); echo "build-worker: $*" >&2; }
done_step() { echo "build-worker:   $(( ($(date +%s%N) - step_started) / 1000000 )) ms" >&2; }

step "cargo build (wasm32, worker profile)"
# worker-build sets this too: `#[wasm_bindgen]` async exports then run on js-sys's futures,
# not wasm-bindgen-futures'. The macros read it when they expand, so it must never change
# between builds sharing a target directory.
WASM_BINDGEN_USE_JS_SYS=1 cargo build --lib --profile worker --target wasm32-unknown-unknown \
  -p "$CRATE"
done_step
# `tools/build-worker.sh cargo` stops here: make runs it beside the CLI installs on a first run.
[[ ${1:-} == cargo ]] && exit 0

rm -rf "$STAGE"
mkdir -p "$STAGE"

step "blog-bindgen (wasm-bindgen --target module)"
"$BINDGEN_BIN" "$TARGET_DIR/wasm32-unknown-unknown/worker/${CRATE//-/_}.wasm" "$STAGE"
done_step

step "wasm-opt -O"
"$WASM_OPT_BIN" "$STAGE/index_bg.wasm" -o "$STAGE/index_bg.opt.wasm" -O \
  --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-bulk-memory --enable-multivalue --enable-reference-types \
  --enable-exception-handling --debuginfo
mv "$STAGE/index_bg.opt.wasm" "$STAGE/index_bg.wasm"
done_step

step "short function names"
node tools/short-names.mjs "$STAGE/index_bg.wasm" "$STAGE/index_bg.short.wasm"
mv "$STAGE/index_bg.short.wasm" "$STAGE/index_bg.wasm"
done_step

step "esbuild --bundle --minify index.js"
"$ESBUILD_BIN" "$STAGE/index.js" --bundle --minify --format=esm --log-level=warning \
  --external:./index_bg.wasm --outfile="$STAGE/bundle.js"
mv "$STAGE/bundle.js" "$STAGE/index.js"
rm -rf "$STAGE/snippets"
done_step

# Into build/, index.js last: it is what make compares with the sources.
for name in index_bg.wasm index.js; do
  mv -f "$STAGE/$name" "$OUT/$name"
done
rm -rf "$STAGE"
