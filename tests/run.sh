#!/usr/bin/env bash
# What `make test` runs once the Worker and `blog` are built: the two halves of the suite at
# once, since one waits and the other computes.
#   - end to end (tests/e2e/, on the real Worker in workerd): mostly waiting on servers,
#     syncs and clocks, two files at a time, then the load test alone; its output is shown
#     as it runs;
#   - on the host, at the lowest CPU priority so the servers above keep their timing:
#     formatting and clippy (make lint), every cargo test, the deploy dry run and the fuzz
#     smoke run; its output goes to target/test-host.log and is shown at the end.
# Fails if either half fails, and says which; prints how long each took.
#   E2E_CONCURRENCY  test files run at once (default 2)
set -uo pipefail
cd "$(dirname "$0")/.."

log=target/test-host.log
mkdir -p target
started=$(date +%s)

host() {
  set -e
  make --no-print-directory lint
  cargo test --workspace --locked
  node_modules/.bin/wrangler deploy --dry-run --outdir target/deploy-dry-run
  fuzz/run.sh 15
}

( nice -n 19 bash -c "$(declare -f host); host" >"$log" 2>&1 ) &
host_pid=$!

# The load test has the machine to itself: it is the one that measures under load.
mapfile -t files < <(ls tests/e2e/*.test.mjs | grep -v '/load\.test\.mjs$')
node --test --test-concurrency="${E2E_CONCURRENCY:-2}" "${files[@]}"
e2e=$?
node --test tests/e2e/load.test.mjs || e2e=1
e2e_took=$(( $(date +%s) - started ))

wait "$host_pid"
host_status=$?
took=$(( $(date +%s) - started ))

echo
echo "---- host checks (lint, cargo test, deploy dry run, fuzz): $log"
cat "$log"
echo
echo "test: end to end exit $e2e in ${e2e_took} s; host checks exit $host_status; ${took} s in all"
if (( e2e != 0 || host_status != 0 )); then
  (( e2e != 0 )) && echo "test: the end-to-end tests failed (above the host checks' log)" >&2
  (( host_status != 0 )) && echo "test: the host checks failed (see their log above)" >&2
  exit 1
fi
