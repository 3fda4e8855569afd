#!/usr/bin/env bash
# Installs what the build needs on a fresh machine of this kind (idempotent): the Rust
# components CI lints with, and a C compiler for the thunk and the test libraries.
set -euo pipefail

if ! command -v cc >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq gcc
fi
if command -v rustup >/dev/null 2>&1; then
    rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi
node -e 'const [maj] = process.versions.node.split(".").map(Number); if (maj < 16) { console.error("Node >= 16 required"); process.exit(1) }'
