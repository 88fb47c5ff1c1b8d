#!/usr/bin/env bash
# Shows that two revisions give the same output: every KV record `blog sync` writes and every
# response the Worker gives, byte for byte, on the same sites.
#
#   tests/tools/same-output.sh REV_A [REV_B]      (REV_B defaults to HEAD)
#   tests/tools/same-output.sh --compare DIR_A DIR_B   (two snapshots already taken)
#
# Each revision is checked out in its own git worktree, target/same-output/<commit>/, with its
# own CARGO_TARGET_DIR inside it, and built there as the Makefile's `build` and blog targets
# do (tools/build-worker.sh or, before it, worker-build; cargo build --release --bin blog) with the pinned tools of this
# checkout (.tools/bin, and node_modules symlinked into the worktree). A revision from before
# the workspace gets an empty [workspace] table in its worktree's Cargo.toml, or cargo would
# take it for a member of this checkout's workspace. A worktree already built for that commit
# and pin is reused. tests/tools/snapshot.mjs (this checkout's, for both)
# then writes each build's output to target/same-output/<commit>.out, and the two are
# compared with diff -r: the script exits 1 on any difference and prints it.
#
# Every ETag and page cache key carries the build id BLOG_BUILD_ID, which changes with every
# source edit, so both builds get one pinned id (SAME_OUTPUT_PIN, default below): through
# BLOG_BUILD_ID_PIN where build.rs honours it, and for an older revision whose build.rs does
# not, by writing the pinned literal in place of env!("BLOG_BUILD_ID") in the worktree's
# Rust sources before building.
#
# Environment: SAME_OUTPUT_PIN (the build id, 16 hex digits), SAME_OUTPUT_REBUILD=1 (build
# again even when a build is there), DIFF_LINES (how much of the diff to print, default 400).

set -euo pipefail

usage() {
  echo "usage: $0 REV_A [REV_B]   (REV_B defaults to HEAD)" >&2
  echo "       $0 --compare DIR_A DIR_B" >&2
  exit 2
}
[[ $# -ge 1 && $# -le 3 ]] || usage
[[ "$1" != --compare || $# -eq 3 ]] || usage
[[ "$1" == --compare || $# -le 2 ]] || usage

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MAIN="$(cd "$HERE/../.." && pwd)"
WORK="$MAIN/target/same-output"
PIN="${SAME_OUTPUT_PIN:-5a3e0b17d0c0ffee}"
DIFF_LINES="${DIFF_LINES:-400}"

# Compares two snapshots: prints what was compared and every difference; 0 when identical.
compare() {
  local out_a="$1" out_b="$2" label_a="$3" label_b="$4" report="$5"
  local kv_a kv_b http_a http_b differ_kv differ_http differ_all status
  count() { find "$1" -type f -path "*/$2/*" | wc -l; }
  kv_a=$(count "$out_a" kv) kv_b=$(count "$out_b" kv)
  http_a=$(count "$out_a" http) http_b=$(count "$out_b" http)
  set +e
  diff -r "$out_a" "$out_b" >"$report"
  status=$?
  set -e
  differ_kv=$(diff -rq "$out_a" "$out_b" | grep -cE '/kv(/|: )' || true)
  differ_http=$(diff -rq "$out_a" "$out_b" | grep -cE '/http(/|: )' || true)
  differ_all=$(diff -rq "$out_a" "$out_b" | wc -l || true)

  echo
  echo "A $label_a"
  echo "B $label_b"
  echo "KV records compared: $kv_a in A, $kv_b in B; differing or only in one: $differ_kv"
  echo "responses compared:  $http_a in A, $http_b in B; differing or only in one: $differ_http"
  if [[ $status -eq 0 ]]; then
    echo "SAME: the two outputs are identical"
    return 0
  fi
  echo "DIFFERENT: $differ_all files differ or are only in one (full diff: $report)"
  diff -rq "$out_a" "$out_b" || true
  echo
  head -n "$DIFF_LINES" "$report"
  return 1
}

if [[ "$1" == --compare ]]; then
  compare "$2" "$3" "$2" "$3" "$(mktemp -t same-output-diff.XXXXXX)"
  exit $?
fi

for tool in "$MAIN/.tools/bin/wasm-bindgen" \
  "$MAIN/node_modules/.bin/wrangler" "$MAIN/node_modules/.bin/wasm-opt" "$MAIN/node_modules/.bin/esbuild"; do
  [[ -x "$tool" ]] || { echo "missing $tool: run \`make tools\` in $MAIN first" >&2; exit 2; }
done

commit_of() {
  git -C "$MAIN" rev-parse --verify --quiet "$1^{commit}" || { echo "not a commit: $1" >&2; exit 2; }
}
A="$(commit_of "$1")"
B="$(commit_of "${2:-HEAD}")"
short() { git -C "$MAIN" rev-parse --short=12 "$1"; }
mkdir -p "$WORK"

# seconds since $1, as "1m 23s"
took() {
  local s=$(($(date +%s) - $1))
  printf '%dm %02ds' $((s / 60)) $((s % 60))
}

# Checks out and builds one commit; prints nothing on stdout.
build() {
  local commit="$1" name wt stamp want started
  name="$(short "$commit")"
  wt="$WORK/$name"
  stamp="$wt/target/same-output.built"
  want="$commit pin=$PIN"

  if [[ -d "$wt" ]] && [[ "$(git -C "$wt" rev-parse HEAD 2>/dev/null)" != "$commit" ]]; then
    echo "== $name: $wt is not a worktree at $commit; making it again" >&2
    git -C "$MAIN" worktree remove --force "$wt" 2>/dev/null || rm -rf "$wt"
    git -C "$MAIN" worktree prune
  fi
  if [[ ! -d "$wt" ]]; then
    git -C "$MAIN" worktree prune
    git -C "$MAIN" worktree add --detach "$wt" "$commit" >&2
  fi
  [[ -e "$wt/node_modules" ]] || ln -s "$MAIN/node_modules" "$wt/node_modules"

  if [[ "${SAME_OUTPUT_REBUILD:-}" != 1 && -f "$stamp" && "$(cat "$stamp")" == "$want" \
    && -f "$wt/build/index.js" && -f "$wt/build/index_bg.wasm" && -x "$wt/target/release/blog" ]]; then
    echo "== $name: reusing its build (pin $PIN)" >&2
    return
  fi
  rm -f "$stamp"
  # Back to the commit as it is (an earlier run's edits below are made again from there).
  git -C "$wt" checkout --quiet -- .

  if grep -q BLOG_BUILD_ID_PIN "$wt/build.rs" 2>/dev/null; then
    echo "== $name: build.rs honours BLOG_BUILD_ID_PIN" >&2
  else
    # Only the worktree's copy changes; the literal takes the place env! had.
    local files
    files="$(grep -rl --include='*.rs' 'env!("BLOG_BUILD_ID")' "$wt" --exclude-dir=target --exclude-dir=node_modules || true)"
    [[ -n "$files" ]] || { echo "$name: neither BLOG_BUILD_ID_PIN in build.rs nor env!(\"BLOG_BUILD_ID\") in its sources" >&2; exit 1; }
    echo "== $name: build.rs has no BLOG_BUILD_ID_PIN; pinning env!(\"BLOG_BUILD_ID\") in:" >&2
    sed "s|^$wt/|   |" <<<"$files" >&2
    xargs sed -i "s/env!(\"BLOG_BUILD_ID\")/\"$PIN\"/g" <<<"$files"
  fi

  # The worktree lies inside this checkout, whose Cargo.toml is a workspace: a revision from
  # before the workspace would be taken for a stray member of it unless it is its own root.
  if ! grep -q '^\[workspace\]' "$wt/Cargo.toml"; then
    echo "== $name: Cargo.toml has no [workspace]; adding an empty one (its own root)" >&2
    printf '\n[workspace]\n' >>"$wt/Cargo.toml"
  fi

  (
    cd "$wt"
    export CARGO_TARGET_DIR="$wt/target"
    export BLOG_BUILD_ID_PIN="$PIN"
    export WRANGLER_SEND_METRICS=false
    export WASM_BINDGEN_BIN="$MAIN/.tools/bin/wasm-bindgen"
    export WASM_OPT_BIN="$wt/node_modules/.bin/wasm-opt"
    export ESBUILD_BIN="$wt/node_modules/.bin/esbuild"
    started=$(date +%s)
    # A revision builds its Worker as its Makefile did: tools/build-worker.sh where it has one,
    # worker-build (pinned in .tools/ by revisions of that time) before.
    if [[ -x tools/build-worker.sh ]]; then
      echo "== $name: tools/build-worker.sh" >&2
      tools/build-worker.sh >&2
    else
      [[ -x "$MAIN/.tools/bin/worker-build" ]] ||
        { echo "$name builds with worker-build: install it (cargo install --root .tools worker-build --version 0.8.7)" >&2; exit 2; }
      echo "== $name: worker-build --release" >&2
      "$MAIN/.tools/bin/worker-build" --release >&2
    fi
    echo "== $name: worker built in $(took "$started")" >&2
    started=$(date +%s)
    # The workspace's default member is the Worker alone: name the CLI's package where it has one.
    local package=()
    [[ -f crates/author/Cargo.toml ]] && package=(-p blog-author)
    echo "== $name: cargo build --release ${package[*]} --bin blog" >&2
    cargo build --release "${package[@]}" --bin blog >&2
    echo "== $name: blog built in $(took "$started")" >&2
  )
  echo "$want" >"$stamp"
}

snapshot() {
  local commit="$1" name wt out started
  name="$(short "$commit")"
  wt="$WORK/$name"
  out="$WORK/$name.out"
  rm -rf "$out"
  started=$(date +%s)
  echo "== $name: snapshot into $out" >&2
  node "$HERE/snapshot.mjs" "$wt" "$out" >&2
  echo "== $name: snapshot taken in $(took "$started")" >&2
}

build "$A"
[[ "$B" == "$A" ]] || build "$B"
# One "now" for both snapshots: which posts count as not yet due is decided alike for both.
export SNAPSHOT_NOW="${SNAPSHOT_NOW:-$(date +%s)}"
snapshot "$A"
[[ "$B" == "$A" ]] || snapshot "$B"

subject() { git -C "$MAIN" log -1 --format=%s "$1" | cut -c1-70; }
compare "$WORK/$(short "$A").out" "$WORK/$(short "$B").out" \
  "$(short "$A")  $(subject "$A")" "$(short "$B")  $(subject "$B")" "$WORK/last.diff"
