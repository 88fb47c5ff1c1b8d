#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each; exits non-zero if any crashed.
#   fuzz/run.sh 20                 smoke run
#   fuzz/run.sh 300 markdown       one target, longer
# Installs the pinned cargo-fuzz into .tools/ first when it is missing or another version.
# Seeds come from fuzz/corpus/<target> (committed, small) and fuzz/artifacts/<target> (inputs
# of fixed bugs, replayed every run); what the fuzzer learns goes to fuzz/target/corpus/<target>
# (git-ignored), so the committed corpus stays as it is. A crash lands in fuzz/artifacts/<target>/
# and, being replayed, fails every later run until it is fixed (then give it a name saying what
# it was, and commit it) or deleted.
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
TARGETS=(frontmatter markdown router search settings)

seconds=${1:-}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "usage: fuzz/run.sh SECONDS [TARGET...]" >&2; exit 2; }
shift
[[ $# -gt 0 ]] && TARGETS=("$@")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
tools=$root/.tools

if [[ "$("$tools/bin/cargo-fuzz" --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
    cargo install cargo-fuzz --version "=$CARGO_FUZZ_VERSION" --locked --root "$tools" --force
fi
rustup run nightly rustc --version >/dev/null 2>&1 || {
    echo "fuzz/run.sh: needs the nightly toolchain (rustup toolchain install nightly)" >&2
    exit 1
}

# What `cargo +nightly fuzz` runs, but always the pinned binary, never another on PATH.
fuzz() { RUSTUP_TOOLCHAIN=nightly "$tools/bin/cargo-fuzz" fuzz "$@"; }

logs=fuzz/target/logs
mkdir -p "$logs"
failed=()
for target in "${TARGETS[@]}"; do
    work=fuzz/target/corpus/$target
    mkdir -p "$work" "fuzz/artifacts/$target"
    # Each run adds to the working corpus; past a few thousand inputs, loading it eats the run.
    if [[ $(find "$work" -type f | wc -l) -gt 2000 ]]; then
        fuzz cmin "$target" "$work" -- -rss_limit_mb=2048 -timeout=10 >"$logs/$target.cmin.log" 2>&1 || true
    fi
    dict=()
    [[ -f fuzz/dicts/$target.dict ]] && dict=("-dict=fuzz/dicts/$target.dict")
    log=$logs/$target.log
    status=0
    fuzz run "$target" "$work" "fuzz/corpus/$target" "fuzz/artifacts/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "${dict[@]}" \
        >"$log" 2>&1 || status=$?
    # libFuzzer's closing lines: "#N DONE cov: C ft: F corp: U/S ..." and "stat::...: N".
    stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
    cov=$(sed -E 's/.* cov: ([0-9]+).*/\1/' <<<"$done_line")
    ft=$(sed -E 's/.* ft: ([0-9]+).*/\1/' <<<"$done_line")
    corp=$(sed -E 's/.* corp: ([0-9]+).*/\1/' <<<"$done_line")
    if [[ $status -eq 0 ]]; then
        printf '%-12s ok    %s runs, %s exec/s, cov %s, ft %s, corpus %s, peak rss %s MB\n' \
            "$target" "$(stat number_of_executed_units)" "$(stat average_exec_per_sec)" \
            "${cov:-?}" "${ft:-?}" "${corp:-?}" "$(stat peak_rss_mb)"
    else
        artifact=$(sed -n 's/.*Test unit written to \([^ ]*\).*/\1/p' "$log" | tail -1)
        printf '%-12s FAIL  exit %s, input %s, log %s\n' "$target" "$status" "${artifact:-none}" "$log"
        failed+=("$target")
    fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz/run.sh: ${failed[*]} failed; reproduce with: RUSTUP_TOOLCHAIN=nightly .tools/bin/cargo-fuzz fuzz run TARGET INPUT" >&2
    exit 1
fi
