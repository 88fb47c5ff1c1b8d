#!/bin/sh
# A stand-in for wrangler and for node's local key listing, for `BLOG_WRANGLER` and
# `BLOG_NODE`: forwards every call to the real program, logs it, and can fail or hang on one
# chosen call (calls to both count in one sequence). Used by tests/e2e/sync-interrupted.test.mjs.
#
#   FLAKY_STATE=DIR          where the call counter and the log live (required; one per run)
#   FLAKY_FAIL_ON=N          call N prints an error and exits 1 without forwarding
#   FLAKY_FAIL_AFTER_ON=N    call N forwards, then exits 1 anyway (done, but the answer was lost)
#   FLAKY_HANG_ON=N          call N hangs (a child `sleep`, as a real wrangler's child would)
#   FLAKY_HANG_SECONDS=S     how long a hang lasts (default 600)
#   REAL_WRANGLER=PATH       the real wrangler (default: node_modules/.bin/wrangler of this repo)
#   REAL_NODE=PATH           the real node, for calls that run tools/kv-list-local.mjs (default: node)
#
# The log ($FLAKY_STATE/log) has one line per event: `<ms> start <n> <args>` and `<ms> end <n> <status>`.

set -u
: "${FLAKY_STATE:?FLAKY_STATE must name a folder}"
here=$(cd "$(dirname "$0")/../.." && pwd)
real=${REAL_WRANGLER:-$here/node_modules/.bin/wrangler}
case "${1:-}" in *kv-list-local.mjs) real=${REAL_NODE:-node} ;; esac
mkdir -p "$FLAKY_STATE"
n=$(( $(cat "$FLAKY_STATE/count" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$FLAKY_STATE/count"
now() { date +%s%3N; }
echo "$(now) start $n $*" >> "$FLAKY_STATE/log"

if [ "${FLAKY_HANG_ON:-}" = "$n" ]; then
  sleep "${FLAKY_HANG_SECONDS:-600}"
fi
if [ "${FLAKY_FAIL_ON:-}" = "$n" ]; then
  echo "flaky-wrangler: injected failure of call $n ($*)" >&2
  echo "$(now) end $n 1" >> "$FLAKY_STATE/log"
  exit 1
fi
"$real" "$@"
status=$?
if [ "${FLAKY_FAIL_AFTER_ON:-}" = "$n" ]; then
  echo "flaky-wrangler: call $n ($*) ran, then failed" >&2
  status=1
fi
echo "$(now) end $n $status" >> "$FLAKY_STATE/log"
exit "$status"
