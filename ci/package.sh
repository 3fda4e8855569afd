#!/usr/bin/env bash
# The npm package as users get it: prebuilt addons made (npm run prebuild), the tarball packed,
# then installed into empty folders and used by a small program (libc calls, a struct, a
# callback, an async call; and an ES module importing it).
#
#   1. installed with no Rust and no C compiler on PATH: the prebuilt addon must be used;
#   2. installed with KOFFI_RS_BUILD_FROM_SOURCE=1: cargo builds the addon from the tarball's
#      sources (workspace, Cargo.lock and build.rs inputs must all be in it);
#   3. the same without cargo on PATH: npm install must fail with a message naming what is missing;
#   4. for each foreign architecture whose qemu and Node ci/cross.sh has installed (aarch64,
#      armv7, riscv64): that architecture's prebuilt addon runs the same program there.
#
# Prints the tarball's size beside Koffi 2.16.3's (7.3 MB packed, 28.8 MB unpacked, measured
# with `npm pack koffi@2.16.3`).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d /tmp/koffi-rs-package.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== prebuilt addons"
node scripts/prebuild.js

echo "== npm pack"
tgz=$(npm pack --silent --pack-destination "$work" | tail -1)
tgz="$work/$tgz"
packed=$(stat -c %s "$tgz")
unpacked=$(tar -xzOf "$tgz" | wc -c)
files=$(tar -tzf "$tgz" | wc -l)  # whole reads: no early exit to break the pipe
awk -v name="$(basename "$tgz")" -v p="$packed" -v u="$unpacked" -v f="$files" 'BEGIN {
    printf "== tarball: %s, %.1f MB packed, %.1f MB unpacked, %d files (Koffi 2.16.3: 7.3 MB packed, 28.8 MB unpacked)\n", name, p / 1e6, u / 1e6, f }'
tar -tzf "$tgz" > "$work/contents.txt"
for required in package/Cargo.lock package/abi-tests/Cargo.toml package/build.rs package/asm/x64_sysv.S \
                package/build/linux_x64/koffi.node package/build/linux_arm64/koffi.node \
                package/build/linux_arm/koffi.node package/build/linux_riscv64/koffi.node; do
    grep -qx "$required" "$work/contents.txt" || { echo "package.sh: $required is not in the tarball"; exit 1; }
done

# What users read stands alone: the documents and entry points in the package name no file that
# only the repository has (its tests, CI scripts, benchmark, examples), and nothing beside it.
mkdir -p "$work/unpacked"
tar -xzf "$tgz" -C "$work/unpacked"
user_files=$(cd "$work/unpacked/package" && ls README.md CHANGELOG.md docs/*.md index.d.ts index.js index.mjs indirect.js lib/*.js)
if (cd "$work/unpacked/package" && grep -nE '\.\./shared|(^|[^A-Za-z_./])(ci|bench|test|tests|example|fuzz)/[A-Za-z_.*-]+' $user_files); then
    echo "package.sh: the lines above point at files outside the package"; exit 1
fi

# The program users would write, run from the folder the package was installed into.
cat > "$work/program.js" <<'EOF'
'use strict';
const assert = require('assert');
const koffi = require('koffi-rs');
const libc = koffi.load('libc.so.6');
assert.strictEqual(koffi.implementation.name, 'koffi-rs');
// Plain calls.
assert.strictEqual(libc.func('int abs(int)')(-42), 42);
assert.strictEqual(libc.func('size_t strlen(const char *s)')('koffi-rs'), 8);
// A struct result.
const DivResult = koffi.struct('div_t', { quot: 'int', rem: 'int' });
assert.deepStrictEqual(libc.func('div_t div(int num, int denom)')(17, 5), { quot: 3, rem: 2 });
// A callback: qsort with a JS comparator.
const Cmp = koffi.proto('int Cmp(const void *a, const void *b)');
const qsort = libc.func('void qsort(_Inout_ int *base, size_t n, size_t size, Cmp *cmp)');
const values = [5, 3, 9, 1];
qsort(values, values.length, 4, (a, b) => koffi.decode(a, 'int') - koffi.decode(b, 'int'));
assert.deepStrictEqual(values, [1, 3, 5, 9]);
// An async call.
libc.func('int abs(int)').async(-7, (err, res) => {
    assert.ifError(err);
    assert.strictEqual(res, 7);
    assert.ok(DivResult);
    console.log(`program: ok (${process.env.CASE})`);
});
EOF

# The same package as an ES module, default and named imports.
cat > "$work/program.mjs" <<'MJS'
import koffi, { load, sizeof } from 'koffi-rs';
import assert from 'assert';
assert.strictEqual(load('libc.so.6').func('int abs(int)')(-1), 1);
assert.strictEqual(sizeof('int'), 4);
assert.strictEqual(koffi.load, load);
console.log(`program.mjs: ok (${process.env.CASE})`);
MJS

# A PATH with node and npm but no cargo, rustc, cc or gcc.
mkdir -p "$work/bin"
for tool in node npm sh env; do ln -s "$(command -v $tool)" "$work/bin/$tool"; done
bare_path="$work/bin"
if PATH=$bare_path command -v cargo cc gcc >/dev/null 2>&1; then echo "package.sh: the bare PATH still has a compiler"; exit 1; fi

install_into() { # folder, env… — installs the tarball into a new folder
    local dir=$1; shift
    mkdir -p "$dir"
    echo '{ "name": "app", "version": "1.0.0", "private": true }' > "$dir/package.json"
    (cd "$dir" && env "$@" npm install --no-audit --no-fund --no-update-notifier --loglevel=error "$tgz")
}

echo "== case 1: install with no compiler on PATH (prebuilt addon)"
install_into "$work/prebuilt" PATH="$bare_path" HOME="$work/home"
[ ! -e "$work/prebuilt/node_modules/koffi-rs/build/koffi.node" ] || { echo "package.sh: case 1 built from source"; exit 1; }
cp "$work/program.js" "$work/program.mjs" "$work/prebuilt/"
(cd "$work/prebuilt" && PATH="$bare_path" CASE=prebuilt node program.js && PATH="$bare_path" CASE=prebuilt node program.mjs)

echo "== case 2: install built from source (KOFFI_RS_BUILD_FROM_SOURCE=1)"
start=$(date +%s)
install_into "$work/source" KOFFI_RS_BUILD_FROM_SOURCE=1 CARGO_TARGET_DIR="$work/source-target"
[ -e "$work/source/node_modules/koffi-rs/build/koffi.node" ] || { echo "package.sh: case 2 did not build from source"; exit 1; }
cp "$work/program.js" "$work/source/"
(cd "$work/source" && CASE="built from source in $(( $(date +%s) - start )) s" node program.js)

echo "== case 3: a source build without cargo fails with a clear message"
if out=$(install_into "$work/nocargo" PATH="$bare_path" HOME="$work/home" KOFFI_RS_BUILD_FROM_SOURCE=1 2>&1); then
    echo "package.sh: case 3 installed without cargo"; exit 1
fi
echo "$out" | grep -q "needs Rust's cargo" || { echo "package.sh: case 3 message:"; echo "$out"; exit 1; }
echo "$out" | grep "koffi-rs:" | head -1

# foreign_case ARCH PREBUILT NODE: the tarball unpacked (not installed: npm under qemu is slow,
# and case 1 covers the install script) and the program run by ARCH's Node under qemu, which
# must pick build/PREBUILT/koffi.node.
foreign_case() {
    local arch=$1 prebuilt=$2 node=$3 dir="$work/$1"
    if [ ! -x "$node" ]; then
        echo "== case 4 ($arch) skipped: no $arch Node here (bash ci/cross.sh $arch --setup installs it)"
        return
    fi
    echo "== case 4: the $prebuilt prebuilt addon on $arch Node under qemu"
    mkdir -p "$dir/node_modules"
    tar -xzf "$tgz" -C "$dir/node_modules"
    mv "$dir/node_modules/package" "$dir/node_modules/koffi-rs"
    cp "$work/program.js" "$dir/"
    (cd "$dir" && CASE="$prebuilt under qemu" "$root/ci/xnode" "$arch" program.js)
}
X=${XROOTS:-/opt/xroots}
foreign_case aarch64 linux_arm64 "$X/node-arm64/bin/node"
foreign_case armv7 linux_arm "$X/node-armv7/bin/node"
foreign_case riscv64 linux_riscv64 "$X/riscv64/usr/bin/node"

echo "== package: ok"
