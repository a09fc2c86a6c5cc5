# looker-load tasks. `just --list` shows them all.
#
# One target directory is shared by every build and CI run on this machine, so nothing compiles twice.
# Dev and CI builds link DuckDB's prebuilt shared library of the pinned version (scripts/duckdb-lib.sh)
# instead of compiling DuckDB's C++ sources.

set shell := ["bash", "-euo", "pipefail", "-c"]

export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", home_directory() / ".cache/looker-load/target")
export CARGO_TERM_COLOR := env_var_or_default("CARGO_TERM_COLOR", "never")
# DuckDB's prebuilt library of the pinned version, fetched once from npm into the target directory.
export DUCKDB_LIB_DIR := env_var_or_default("DUCKDB_LIB_DIR", shell("scripts/duckdb-lib.sh \"$1\"", CARGO_TARGET_DIR / "duckdb-lib/1.5.5"))

all_resources := "users,looks,dashboards,queries,projects,folders,groups,roles,lookml_models,scheduled_plans,connections,user_attributes"

# List the recipes.
default:
    @just --list

# Build the looker-load binary (debug).
build:
    cargo build --bin looker-load

# Build the release binary.
release:
    cargo build --release --bin looker-load

# Extract, normalize and load every resource from the built-in mock Looker into DuckDB.
demo *ARGS: release
    "$CARGO_TARGET_DIR/release/looker-load" run --demo --resources {{all_resources}} {{ARGS}}

# Formatting and lints, as CI checks them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# The whole test suite: lints, then every test of every crate, with a throwaway PostgreSQL server started
# for the run (scripts/pg.sh) and stopped afterwards.
test: lint
    #!/usr/bin/env bash
    set -euo pipefail
    url="$(scripts/pg.sh start)"
    trap 'scripts/pg.sh stop' EXIT
    LOOKER_LOAD_TEST_POSTGRES_URL="$url" LOOKER_LOAD_REQUIRE_POSTGRES=1 cargo nextest run --workspace --no-fail-fast

# `just bench`: N=10,000 and 100,000 users (wall, CPU, peak RSS, MB/s, rows/s, per-stage time, download
# floor); `just bench latency`: 50 and 200 ms per request; `just bench all`; `just bench micro`: the crates'
# cargo benches. Figures go to bench/results.md; options: bench/run.sh --help.
# Benchmarks (release build) of looker-load run against a looker-mock server.
bench *ARGS:
    cargo build --release -p looker-load -p looker-mock
    bench/run.sh --no-build {{ARGS}}
