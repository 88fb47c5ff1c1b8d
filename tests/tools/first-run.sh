#!/usr/bin/env bash
# Times the first `make dev` as a new user meets it on a fresh machine of this kind, then a
# second one with nothing changed:
#   - a clean clone of REV (default HEAD): no target/, build/, .tools/ or node_modules/;
#   - a fresh CARGO_HOME holding only the toolchain's binaries (rustup's proxies), so every
#     crate is downloaded from crates.io and every tool is compiled; a fresh npm cache,
#     so every npm package is downloaded too. The Rust toolchain itself (rustup's, with its
#     wasm32 target if installed) is the machine's, as it is on a new machine of this kind.
# Prints each step's time, from make's own output time-stamped as it runs, and the seconds
# from `make dev` to the first page answering 200.
#   tests/tools/first-run.sh [REV]
# With --test, times a cold `make test` instead (what CI runs on a clean clone), and prints
# when each of its steps began.
#   tests/tools/first-run.sh --test [REV]
# Needs the network to the registries and about 3 GB in /tmp. Nothing outside the temporary
# folder is written.
set -euo pipefail

mode=dev
[[ ${1:-} == --test ]] && { mode=test; shift; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
commit=$(git -C "$root" rev-parse --verify "${1:-HEAD}^{commit}")
work=$(mktemp -d /tmp/blog-first-run.XXXXXX)
echo "first-run: $commit in $work" >&2

git clone -q --no-local "$root" "$work/blog"
git -C "$work/blog" checkout -q --detach "$commit"

export CARGO_HOME="$work/cargo-home"
mkdir -p "$CARGO_HOME/bin"
for tool in cargo rustc rustup rustdoc rustfmt cargo-fmt cargo-clippy clippy-driver; do
  found=$(command -v "$tool") && ln -s "$found" "$CARGO_HOME/bin/$tool"
done
export PATH="$CARGO_HOME/bin:$PATH"
export npm_config_cache="$work/npm-cache"

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')

# Prints each line of stdin with the seconds since $1 (date +%s%N) before it.
stamp() {
  local started=$1
  while IFS= read -r line; do
    printf '%7.1f  %s\n' "$(( ($(date +%s%N) - started) / 1000000 ))e-3" "$line"
  done
}

# Runs `make dev` in the clone until the index answers 200, the whole log time-stamped into
# $work/$1.log; prints the seconds it took.
run_dev() {
  local name=$1 started answered=""
  started=$(date +%s%N)
  (
    cd "$work/blog"
    exec setsid make dev PORT="$port" 2>&1 | stamp "$started" >"$work/$name.log"
  ) &
  local runner=$!
  while kill -0 "$runner" 2>/dev/null; do
    if curl -sf -o /dev/null "http://127.0.0.1:$port/"; then
      answered=$(( ($(date +%s%N) - started) / 1000000 ))
      break
    fi
    sleep 0.5
  done
  pkill -TERM -f "wrangler.*--port $port" 2>/dev/null || true
  pkill -TERM -f "make dev PORT=$port" 2>/dev/null || true
  wait "$runner" 2>/dev/null || true
  sleep 1
  [[ -n $answered ]] || { echo "first-run: $name never answered; log: $work/$name.log" >&2; tail -20 "$work/$name.log" >&2; exit 1; }
  printf '%s %d.%03d\n' "$name" $((answered / 1000)) $((answered % 1000))
}

if [[ $mode == test ]]; then
  started=$(date +%s%N)
  status=0
  (cd "$work/blog" && make test 2>&1) | stamp "$started" >"$work/test.log" || status=$?
  took=$(( ($(date +%s%N) - started) / 1000000 ))
  echo "cold make test, step by step (seconds since make test):"
  grep -E '^ *[0-9.]+  (cargo (test|fmt|clippy|build|install)|CARGO_TARGET_DIR=|npm ci|tools/build-worker.sh$|node_modules/.bin/wrangler|node --test|fuzz/run.sh|tests/run.sh|test: end to end|# (tests|pass|fail) )' \
    "$work/test.log" | sed 's/^/  /' | cut -c1-140
  printf '\ncold make test: exit %d in %d.%03d s\n' "$status" $((took / 1000)) $((took % 1000))
  echo "(log: $work/test.log; remove $work when done)"
  exit "$status"
fi

first=$(run_dev first)
second=$(run_dev second)

# The moments each step began and ended, from the first run's log.
echo
echo "first make dev, step by step (seconds since make dev):"
grep -E 'cargo build|npm ci|added [0-9]+ packages|build-worker: |Finished .(release|worker|dev).|blog sync|sync: |Ready on|Starting local server' \
  "$work/first.log" | sed 's/^/  /' | cut -c1-140
echo
echo "first make dev, clean clone to the site answering: ${first#first } s"
echo "second make dev, nothing changed:                  ${second#second } s"
echo "(logs: $work/first.log, $work/second.log; remove $work when done)"
