# shellcheck shell=bash
# Sourced by ci/*.sh: debian_root SUITE ARCH DIR PKG... downloads the Debian packages PKG and
# their dependencies (no Recommends) for ARCH from Debian SUITE and unpacks them into DIR, a root
# that qemu-user runs programs in (`qemu-<arch> -L DIR DIR/usr/bin/...`). This is how the CI
# scripts get a Node.js for architectures that have none on the npm registry (riscv64: Debian
# trixie's nodejs; bookworm has no riscv64 port).
#
# Nothing on the host changes: apt runs with its own lists, cache and an empty dpkg status in a
# temporary directory, the packages are unpacked with dpkg-deb -x (no dpkg database, no
# maintainer scripts), and the merged-/usr links (lib, bin, sbin -> usr/...) that a maintainer
# script or base-files would make are added by hand.
#
# Idempotent: DIR/.debian-root records SUITE ARCH PKG...; when it matches, nothing is done. Only
# complete unpacks count: the root is built in DIR.tmp and moved to DIR at the end.
#
# Stale mirror indexes: a mirror caught mid-sync serves an InRelease newer than its Packages files
# ("File has unexpected size ... Mirror sync in progress?"), so the signed suite does not update.
# Then the per-architecture index is read as a flat repository (dists/SUITE/main/binary-ARCH/,
# [trusted=yes]): apt does not check the index against InRelease (the index itself is not
# authenticated; the .debs are still checked against its hashes). The signed form is always tried
# first. If the mirror has already dropped a .deb the stale index names, the download fails with a
# 404: try again later. (../shared/notes/cross-recipe.md, traps 4-7.)
#
# DEBIAN_MIRROR overrides the mirror (default http://deb.debian.org/debian).
debian_root() {
    local suite=$1 arch=$2 dir=$3
    shift 3
    local stamp="$suite $arch $*" mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian} w f d rc=0 debs
    if [ "$(cat "$dir/.debian-root" 2>/dev/null)" = "$stamp" ]; then
        echo "already unpacked: $dir (Debian $suite $arch: $*)"
        return 0
    fi
    w=$(mktemp -d)
    mkdir -p "$w/lists/partial" "$w/cache/archives/partial" "$w/parts"
    : >"$w/status"
    local apt=(apt-get -q
        -o "Dir::Etc::SourceList=$w/sources.list" -o "Dir::Etc::SourceParts=$w/parts"
        -o "Dir::Etc::Preferences=$w/preferences" -o "Dir::Etc::PreferencesParts=$w/parts"
        -o "Dir::State::Lists=$w/lists" -o "Dir::State::status=$w/status" -o "Dir::Cache=$w/cache"
        -o "APT::Architecture=$arch" -o "APT::Architectures=$arch"
        -o APT::Install-Recommends=false -o APT::Sandbox::User=root)
    echo "deb $mirror $suite main" >"$w/sources.list"
    if ! "${apt[@]}" update --error-on=any >"$w/update.log" 2>&1; then
        echo "debian_root: the $suite/$arch index does not match its InRelease (mirror mid-sync?); reading it as a flat repository"
        grep -E '^(E|W):' "$w/update.log" | head -3 || true
        rm -rf "$w/lists"
        mkdir -p "$w/lists/partial"
        echo "deb [trusted=yes] $mirror dists/$suite/main/binary-$arch/" >"$w/sources.list"
        "${apt[@]}" update >"$w/update.log" 2>&1 || rc=$?
        if [ $rc -ne 0 ]; then
            cat "$w/update.log" >&2
            rm -rf "$w"
            return $rc
        fi
    fi
    "${apt[@]}" install --download-only -y "$@" >"$w/install.log" 2>&1 || rc=$?
    if [ $rc -ne 0 ]; then
        cat "$w/install.log" >&2
        rm -rf "$w"
        return $rc
    fi
    debs=("$w"/cache/archives/*.deb)
    rm -rf --one-file-system "$dir.tmp"
    mkdir -p "$dir.tmp"
    for f in "${debs[@]}"; do
        dpkg-deb -x "$f" "$dir.tmp"
    done
    for d in lib bin sbin; do
        [ -e "$dir.tmp/$d" ] || ln -s "usr/$d" "$dir.tmp/$d"
    done
    echo "$stamp" >"$dir.tmp/.debian-root"
    echo "unpacked ${#debs[@]} packages ($(du -sm "$dir.tmp" | cut -f1) MB) from Debian $suite $arch into $dir"
    rm -rf "$w"
    rm -rf --one-file-system "$dir"
    mv "$dir.tmp" "$dir"  # only a complete unpack counts as done
}
