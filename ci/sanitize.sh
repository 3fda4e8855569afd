#!/usr/bin/env bash
# The engine tests and the whole JS suite under AddressSanitizer.
#
# - Engine: `cargo test --no-default-features --workspace` built with `-Zsanitizer=address`;
#   test executables get rustc's own static ASan runtime.
# - Addon: the cdylib built with `-Zsanitizer=address` (rustc links no runtime into a cdylib on
#   Linux), run in a stock Node with GCC's shared runtime (libasan.so.8) preloaded; the C test
#   library is built with `gcc -fsanitize=address` against the same runtime. The script checks
#   that the runtime exports every `__asan_*` entry the addon imports (rustc's LLVM and GCC's
#   libsanitizer share the v8 instrumentation interface), and that a use-after-free is reported
#   in this very setup (a canary) before it trusts a clean run.
#
# Only one (stable) toolchain is installed: `RUSTC_BOOTSTRAP=1` unlocks `-Z` flags on it. The
# standard library is not rebuilt (no -Zbuild-std offline), so std's own code is not
# instrumented; every heap allocation still goes through the interposed malloc/free, so reads
# and writes from our code into freed or out-of-bounds heap memory are caught.
#
# Idempotent; wall time on the 2-core CI machine: see CONTRIBUTING.md (about 3 minutes from clean).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
host=x86_64-unknown-linux-gnu
if [ "$(uname -m)" != x86_64 ] || [ "$(uname -s)" != Linux ]; then
    echo "ci/sanitize.sh: only Linux x86_64 is set up (host: $(uname -sm))" >&2
    exit 1
fi

# GCC's shared ASan runtime (Debian: libasan8, pulled in by gcc) and a symbolizer for reports.
if ! command -v gcc >/dev/null 2>&1 || [ ! -e "$(gcc -print-file-name=libasan.so)" ]; then
    apt-get update -qq && apt-get install -y -qq gcc libasan8
fi
runtime=$(readlink -f "$(gcc -print-file-name=libasan.so)")
symbolizer=$(command -v llvm-symbolizer || command -v addr2line || true)

out=target/asan/out
logs=target/asan/logs
mkdir -p "$out"
rm -rf "$logs" && mkdir -p "$logs"

# Release code (the JS suite's recursion tests need its smaller frames) without LTO (faster to
# build; the sanitizer pass runs after LTO anyway), with line tables and frame pointers for
# readable reports. `--target` keeps build scripts and proc-macros uninstrumented.
export RUSTC_BOOTSTRAP=1
export RUSTFLAGS="-Zsanitizer=address -Cforce-frame-pointers=yes"
export CARGO_TARGET_DIR=target/asan
export CARGO_PROFILE_RELEASE_LTO=false
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
export CARGO_PROFILE_RELEASE_DEBUG=line-tables-only
# detect_stack_use_after_return stays off: it moves locals to "fake stack" frames, which breaks
# when a callback leaves the call memory's stack for the thread's own (pool::run_on_stack, a
# stack switch ASan is not told about: it would need __sanitizer_start_switch_fiber there).
asan_common="abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=0:strict_string_checks=1:check_initialization_order=1"
[ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH="$symbolizer"

echo "== engine tests under ASan (cargo test --no-default-features --workspace)"
ASAN_OPTIONS="$asan_common:detect_leaks=1" \
    cargo test --release --no-default-features --workspace --target "$host" -- --show-output

echo "== addon under ASan"
cargo build --release --lib --target "$host"
cp "target/asan/$host/release/libkoffi_rs.so" "$out/koffi.node"
for src in test/native/koffitest.c:libkoffitest test/native/lifetimes.c:libkoffilife; do
    gcc -O1 -g -fsanitize=address -fno-omit-frame-pointer -shared -fPIC -pthread \
        -o "$out/${src#*:}.so" "${src%%:*}"
done
unset RUSTFLAGS RUSTC_BOOTSTRAP CARGO_TARGET_DIR

# The addon is instrumented, and the preloaded runtime provides every entry it calls.
nm -D --undefined-only "$out/koffi.node" | awk '/__asan_/ { print $2 }' | sort -u > "$out/needs.txt"
nm -D --defined-only "$runtime" | awk '{ print $3 }' | sort -u > "$out/has.txt"
grep -qx '__asan_report_load8' "$out/needs.txt" || { echo "the addon is not instrumented" >&2; exit 1; }
missing=$(comm -23 "$out/needs.txt" "$out/has.txt")
if [ -n "$missing" ]; then
    echo "$runtime lacks entries the addon needs (interface mismatch):" >&2
    echo "$missing" >&2
    exit 1
fi
echo "addon imports $(wc -l < "$out/needs.txt") __asan_* entries, all exported by $runtime"

# Node with the runtime first in the library list (ASan insists), V8's leaks left alone, every
# report of every process (the suite spawns Node children) written under $logs.
# - --stack-size: ASan's redzones make native frames several times larger; the suite's
#   200-level JS → C → JS recursion needs about 4 MB of V8 stack (main thread stack: 8 MB).
# - KOFFI_RS_SANITIZER: tests leave out what the runtime refuses (RTLD_DEEPBIND, see
#   test/helpers.js).
run_node() {
    LD_PRELOAD="$runtime" \
    ASAN_OPTIONS="$asan_common:detect_leaks=0:log_path=$PWD/$logs/asan" \
    KOFFI_RS_SANITIZER=address KOFFI_RS_NATIVE="$PWD/$out/koffi.node" KOFFI_RS_BUILD="$PWD/$out" \
        node --stack-size=4000 "$@"
}

echo "== canary: a use-after-free in C called through the ASan addon must be reported"
cat > "$out/canary.c" <<'EOF'
#include <stdlib.h>
int canary_use_after_free(void) { volatile int *p = malloc(sizeof(int)); *p = 1; free((void *)p); return *p; }
EOF
gcc -O1 -g -fsanitize=address -shared -fPIC -o "$out/libcanary.so" "$out/canary.c"
if run_node -e "require('./').load('$PWD/$out/libcanary.so').func('int canary_use_after_free(void)')()" 2>/dev/null; then
    echo "the canary's use-after-free went unreported: the sanitizer is not active" >&2
    exit 1
fi
grep -l 'heap-use-after-free' "$logs"/asan.* >/dev/null || { echo "no ASan report from the canary" >&2; exit 1; }
rm -f "$logs"/asan.*
echo "reported (heap-use-after-free)"

echo "== JS suite under ASan"
status=0
run_node --test --test-reporter=dot test/ || status=$?
if compgen -G "$logs/asan.*" >/dev/null; then
    echo "AddressSanitizer reports:" >&2
    cat "$logs"/asan.* >&2
    status=1
fi
echo "== sanitizer run: status $status, wall time $(( $(date +%s) - start )) s"
exit "$status"
