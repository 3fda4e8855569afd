#!/usr/bin/env bash
# Runs each cargo-fuzz target (fuzz/fuzz_targets: type strings, prototypes, struct layout) for
# a short time from the seed corpus in fuzz/corpus/<target>; fails on the first crash, panic,
# failed invariant, leak or timeout, leaving the input under fuzz/artifacts/<target>/.
#
#   bash ci/fuzz.sh            # 60 s per target
#   FUZZ_SECONDS=600 bash ci/fuzz.sh layout   # one target, longer
#
# cargo-fuzz comes from crates.io (`cargo install cargo-fuzz --locked`, skipped when
# ~/.cargo/bin has it). It passes nightly-only flags (-Zsanitizer=address, sancov passes):
# RUSTC_BOOTSTRAP=1 allows them on the stable toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
export RUSTC_BOOTSTRAP=1
seconds="${FUZZ_SECONDS:-60}"

if ! command -v cc >/dev/null 2>&1 || ! command -v c++ >/dev/null 2>&1; then
    # libfuzzer-sys builds libFuzzer from its C++ sources.
    apt-get update -qq && apt-get install -y -qq gcc g++
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== cargo install cargo-fuzz --locked"
    cargo install cargo-fuzz --locked
fi

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(type_string prototype layout)

cd fuzz
echo "== cargo fuzz build"
cargo fuzz build

for t in "${targets[@]}"; do
    # libFuzzer writes what it finds into its first corpus directory: a scratch copy, so the
    # tracked seeds stay as they are.
    scratch="target/corpus/$t"
    mkdir -p "$scratch"
    echo "== fuzz $t for ${seconds} s (seeds: $(ls "corpus/$t" | wc -l))"
    cargo fuzz run "$t" "$scratch" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1
done
echo "== fuzz wall time: $(( $(date +%s) - start )) s"
