#!/usr/bin/env bash
# Fetch DuckDB's prebuilt shared library (libduckdb.so, C API) of the version the `duckdb` crate pins, so dev
# and CI builds link it instead of compiling DuckDB's C++ sources (the crate's `bundled` build takes over
# half an hour on 2 cores).
#
# Usage:   scripts/duckdb-lib.sh [CACHE_DIR]
# Prints:  the directory holding libduckdb.so, on stdout only.
# Default: ${CARGO_TARGET_DIR:-target}/duckdb-lib/<version>
#
# Idempotent: a complete earlier download (checked by size and the library's version string) is reused
# without touching the network. The library comes from the npm package @duckdb/node-bindings-linux-x64,
# the same libduckdb.so that DuckDB's Node.js bindings load, fetched with the ordinary npm client.
#
# Builds then set (see destinations/duckdb/README.md):
#   DUCKDB_LIB_DIR=<dir>        read by libduckdb-sys's build script: link against <dir>/libduckdb.so
#   LD_LIBRARY_PATH=<dir>       only to run a binary directly (cargo run/test/nextest find it on their own)
set -euo pipefail

DUCKDB_VERSION="1.5.5"
NPM_PACKAGE="@duckdb/node-bindings-linux-x64"
NPM_VERSION="${DUCKDB_VERSION}-r.5"

case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *)
        echo "duckdb-lib.sh: no prebuilt libduckdb for $(uname -s)-$(uname -m) here;" \
            "build with the duckdb-dest 'bundled' feature instead" >&2
        exit 1
        ;;
esac

target_dir="${CARGO_TARGET_DIR:-target}"
dir="${1:-$target_dir/duckdb-lib/$DUCKDB_VERSION}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
lib="$dir/libduckdb.so"

# A library is complete when it is non-empty and carries its version string; anything else is refetched.
complete() {
    [[ -s "$lib" ]] && grep -aq "v${DUCKDB_VERSION}" "$lib"
}

if ! complete; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "duckdb-lib.sh: npm is required to fetch ${NPM_PACKAGE}@${NPM_VERSION} (apt-get install npm)" >&2
        exit 1
    fi
    work="$(mktemp -d "$dir/.fetch.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    echo "duckdb-lib.sh: fetching ${NPM_PACKAGE}@${NPM_VERSION} into $dir" >&2
    (cd "$work" && npm pack --silent "${NPM_PACKAGE}@${NPM_VERSION}" >/dev/null)
    tarball="$(find "$work" -maxdepth 1 -name '*.tgz' | head -n 1)"
    if [[ -z "$tarball" ]]; then
        echo "duckdb-lib.sh: npm pack produced no tarball" >&2
        exit 1
    fi
    tar -xzf "$tarball" -C "$work" package/libduckdb.so
    # Same-directory rename: other builds never see a half-written library.
    mv -f "$work/package/libduckdb.so" "$lib"
    if ! complete; then
        echo "duckdb-lib.sh: $lib does not look like DuckDB v${DUCKDB_VERSION}" >&2
        exit 1
    fi
fi

echo "$dir"
