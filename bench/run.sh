#!/usr/bin/env bash
# End-to-end benchmark of looker-load against the looker-mock server (a separate process), with public tools
# only: /usr/bin/time -v, curl, python3 (standard library), perf when asked.
#
# Usage: bench/run.sh [MODE] [OPTIONS]
#   MODE       throughput (default) | latency | pagesize | storm | all | micro (the crates' cargo benches)
#              all = throughput + latency + storm
#   --sizes "10000 100000"        throughput sizes (users; looks N/10, dashboards N/20)
#   --latency-ms "50 200"         per-request delays of the latency scenario
#   --latency-sizes "10000"       latency sizes; add 100000 to opt in (minutes at 200 ms)
#   --page-sizes "100 500 1000 2000"  page sizes of the pagesize mode (a latency run each, first
#                                 of --latency-sizes and of --latency-ms)
#   --storm SPEC                  the storm mode's looker-mock --storm (default 20%:10s@5s: 20 % of the
#                                 requests answered 429 with Retry-After: 1 from 5 s to 15 s after the
#                                 first request); a calm run of the same size and delay is measured too
#   --storm-size N --storm-ms MS  size and per-request delay of the storm mode (default 10000, 200)
#   --concurrency N               passed to looker-load --concurrency (default 8, looker-load's default)
#   --latency-concurrency "8 16"  concurrencies of the latency mode (default: --concurrency)
#   --page-size N                 passed to looker-load --page-size and used by the download floor (default 500)
#   --repeat K                    run each measurement K times and report the fastest (default 1)
#   --perf                        also profile the largest throughput size under `perf record` (extra run)
#   --no-build                    use the release binaries already built
#   --out FILE                    results file whose sections are rewritten (default bench/results.md)
#   --keep                        keep the raw outputs (mock stats, logs, trace.json, perf data)
#
# Each run: a fresh looker-mock on a free port, a fresh working directory (PIPELINES_DIR, DuckDB file, HOME),
# `looker-load run --resources <all 12>` under /usr/bin/time -v, the mock's statistics from its SIGINT exit.
# Throughput runs also time the download floor: one keep-alive curl fetching every page and query id the
# extractor fetches, from a second mock with the same data, nothing parsed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/looker-load/target}
BIN=$CARGO_TARGET_DIR/release
PY="python3 $ROOT/bench/bench.py"
RESOURCES=users,looks,dashboards,queries,projects,folders,groups,roles,lookml_models,scheduled_plans,connections,user_attributes
SEED=42

MODE=throughput
SIZES="10000 100000"
LATENCIES="50 200"
LATENCY_SIZES="10000"
PAGE_SIZES="100 500 1000 2000"
STORM_SPEC="20%:10s@5s"
STORM_SIZE=10000
STORM_MS=200
MOCK_EXTRA=()
LAT_CONCS=
CONCURRENCY=8
PAGE_SIZE=500
PERF=0
REPEAT=1
BUILD=1
OUT=$ROOT/bench/results.md
KEEP=0

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
    case $1 in
        throughput | latency | pagesize | storm | all | micro) MODE=$1 ;;
        --latency) MODE=latency ;;
        --sizes) SIZES=$2; shift ;;
        --latency-ms) LATENCIES=$2; shift ;;
        --latency-sizes) LATENCY_SIZES=$2; shift ;;
        --page-sizes) PAGE_SIZES=$2; shift ;;
        --storm) STORM_SPEC=$2; shift ;;
        --storm-size) STORM_SIZE=$2; shift ;;
        --storm-ms) STORM_MS=$2; shift ;;
        --concurrency) CONCURRENCY=$2; shift ;;
        --latency-concurrency) LAT_CONCS=$2; shift ;;
        --page-size) PAGE_SIZE=$2; shift ;;
        --perf) PERF=1 ;;
        --repeat) REPEAT=$2; shift ;;
        --no-build) BUILD=0 ;;
        --out) OUT=$2; shift ;;
        --keep) KEEP=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "bench/run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [[ $MODE == micro ]]; then
    cd "$ROOT" && exec cargo bench --workspace
fi

if ((BUILD)); then
    if [[ -z ${DUCKDB_LIB_DIR:-} ]]; then
        DUCKDB_LIB_DIR=$("$ROOT/scripts/duckdb-lib.sh" "$CARGO_TARGET_DIR/duckdb-lib/1.5.5")
        export DUCKDB_LIB_DIR
    fi
    (cd "$ROOT" && cargo build --release -p looker-load -p looker-mock)
fi
for b in looker-load looker-mock; do
    [[ -x $BIN/$b ]] || { echo "bench/run.sh: $BIN/$b missing (build with cargo build --release)" >&2; exit 1; }
done

RAW=$(mktemp -d "${TMPDIR:-/tmp}/looker-load-bench.XXXXXX")
MOCK_PID=
cleanup() {
    if [[ -n $MOCK_PID ]]; then kill "$MOCK_PID" 2>/dev/null || true; fi
    if ((KEEP)); then echo "raw outputs kept in $RAW" >&2; else rm -rf "$RAW"; fi
}
trap cleanup EXIT

# start_mock DIR N LATENCY_MS: starts looker-mock, sets MOCK_PID and MOCK_BASE.
start_mock() {
    local dir=$1 n=$2 latency=$3
    "$BIN/looker-mock" --users "$n" --looks $((n / 10)) --dashboards $((n / 20)) --seed $SEED \
        --latency-ms "$latency" "${MOCK_EXTRA[@]}" >"$dir/mock.out" 2>"$dir/mock.err" &
    MOCK_PID=$!
    for _ in $(seq 100); do
        grep -q '^listening on ' "$dir/mock.out" 2>/dev/null && break
        kill -0 "$MOCK_PID" 2>/dev/null || { cat "$dir/mock.err" >&2; exit 1; }
        sleep 0.05
    done
    MOCK_BASE=$(sed -n 's/^listening on //p' "$dir/mock.out" | head -1)
    [[ -n $MOCK_BASE ]] || { echo "bench/run.sh: looker-mock did not start" >&2; exit 1; }
}

# stop_mock: SIGINT, so the mock prints its statistics to stderr.
stop_mock() {
    kill -INT "$MOCK_PID" 2>/dev/null || true
    wait "$MOCK_PID" || true
    MOCK_PID=
}

# load_run DIR [WRAPPER...]: one `looker-load run` against MOCK_BASE in a fresh working directory.
load_run() {
    local dir=$1; shift
    mkdir -p "$dir/home" "$dir/cwd"
    cut -d' ' -f1-3 /proc/loadavg >"$dir/loadavg"
    local rc=0
    date +%s.%N >"$dir/started"
    (
        cd "$dir/cwd"
        exec env HOME="$dir/home" \
            SOURCES__LOOKER_DATA_SOURCE__BASE_URL="$MOCK_BASE" \
            SOURCES__LOOKER_DATA_SOURCE__CLIENT_ID=demo-client-id \
            SOURCES__LOOKER_DATA_SOURCE__CLIENT_SECRET=demo-client-secret \
            PIPELINES_DIR="$dir/pipelines" \
            DESTINATION__DUCKDB__CREDENTIALS="$dir/bench.duckdb" \
            "$@" /usr/bin/time -v -o "$dir/time.txt" \
            "$BIN/looker-load" run --resources "$RESOURCES" --concurrency "$CONCURRENCY" --page-size "$PAGE_SIZE" \
            >"$dir/run.out" 2>"$dir/run.err"
    ) &
    local run_pid=$!
    # Resident memory of looker-load over time, to place the peak in a phase.
    $PY rss-sample "$run_pid" "$dir/rss.txt" &
    local sampler_pid=$!
    wait "$run_pid" || rc=$?
    date +%s.%N >"$dir/ended"
    wait "$sampler_pid" || true
    if ((rc != 0)); then
        echo "bench/run.sh: looker-load run failed (exit $rc); last lines of its stderr:" >&2
        tail -20 "$dir/run.err" >&2
        exit 1
    fi
}

# floor DIR N: times one keep-alive curl over every URL the extractor fetches (login included).
floor() {
    local dir=$1 n=$2
    start_mock "$dir/floor" "$n" 0
    $PY floor-urls "$MOCK_BASE" "$PAGE_SIZE" "$dir/floor/urls.cfg" >/dev/null
    local start end token
    start=$(date +%s.%N)
    token=$(curl -sS -X POST "$MOCK_BASE/api/4.0/login" \
        --data-urlencode client_id=demo-client-id --data-urlencode client_secret=demo-client-secret |
        sed 's/.*"access_token":"\([^"]*\)".*/\1/')
    { echo "header = \"Authorization: token $token\""; cat "$dir/floor/urls.cfg"; } >"$dir/floor/curl.cfg"
    curl -K "$dir/floor/curl.cfg" >"$dir/floor/sizes.txt"
    end=$(date +%s.%N)
    stop_mock
    if grep -qv '^200 ' "$dir/floor/sizes.txt"; then
        echo "bench/run.sh: the download floor got non-200 answers" >&2
        exit 1
    fi
    awk -v s="$start" -v e="$end" '{b += $2; r++} END {printf "%.4f %d %d\n", e - s, b, r + 1}' \
        "$dir/floor/sizes.txt" >"$dir/floor.txt"
}

# minimum DIR N: the fewest requests the run can make (every page up to the first short one and every
# query id embedded nowhere; login and logout are added by bench.py), from a second mock, no delay.
minimum() {
    local dir=$1 n=$2 extra=("${MOCK_EXTRA[@]}")
    mkdir -p "$dir/minimum"
    MOCK_EXTRA=()
    start_mock "$dir/minimum" "$n" 0
    $PY floor-urls "$MOCK_BASE" "$PAGE_SIZE" "$dir/minimum/urls.cfg" | cut -d' ' -f1 >"$dir/minimum.txt"
    stop_mock
    MOCK_EXTRA=("${extra[@]}")
}

# one KIND N LATENCY_MS: REPEAT measured runs; appends the paths of their records to RECORDS.
one() {
    local r
    for r in $(seq "$REPEAT"); do one_run "$@" "$r"; done
}

one_run() {
    local kind=$1 n=$2 latency=$3 r=$4
    local dir=$RAW/$kind-$n-$latency-$PAGE_SIZE-$CONCURRENCY-${#MOCK_EXTRA[@]}-$r
    mkdir -p "$dir/floor"
    echo "== $kind: N=$n, delay ${latency} ms, page size $PAGE_SIZE ${MOCK_EXTRA[*]} (run $r of $REPEAT)" >&2
    if ((${#MOCK_EXTRA[@]})); then echo "${MOCK_EXTRA[-1]}" >"$dir/storm.txt"; fi
    start_mock "$dir" "$n" "$latency"
    load_run "$dir"
    stop_mock
    if [[ $kind == throughput ]]; then floor "$dir" "$n"; fi
    if [[ $kind == latency || $kind == pagesize ]]; then minimum "$dir" "$n"; fi
    $PY record "$dir" "$kind" "$n" "$latency" "$CONCURRENCY" "$PAGE_SIZE"
    RECORDS+=("$dir/record.json")
}

# profile N: an extra run under perf record (cpu-clock sampling: this VM has no hardware counters).
profile() {
    local n=$1 dir=$RAW/perf-$n
    command -v perf >/dev/null || { echo "bench/run.sh: perf not installed; no profile" >&2; return; }
    mkdir -p "$dir"
    echo "== perf: N=$n" >&2
    start_mock "$dir" "$n" 0
    load_run "$dir" perf record -q -e cpu-clock -F 999 --clockid realtime -o "$dir/perf.data" --
    stop_mock
    perf script -i "$dir/perf.data" -F comm,tid,time,ip,sym,dso >"$dir/samples.txt" 2>/dev/null
    $PY profile "$dir" "$n"
    echo
    $PY write profile "$OUT" "$dir/profile.md"
}

if [[ $MODE == throughput || $MODE == all ]]; then
    RECORDS=()
    for n in $SIZES; do one throughput "$n" 0; done
    echo
    $PY write throughput "$OUT" "${RECORDS[@]}"
    if ((PERF)); then
        largest=$(tr ' ' '\n' <<<"$SIZES" | sort -n | tail -1)
        profile "$largest"
    fi
fi

if [[ $MODE == latency || $MODE == all ]]; then
    RECORDS=()
    default_concurrency=$CONCURRENCY
    for n in $LATENCY_SIZES; do
        for l in $LATENCIES; do
            for CONCURRENCY in ${LAT_CONCS:-$default_concurrency}; do one latency "$n" "$l"; done
        done
    done
    CONCURRENCY=$default_concurrency
    echo
    $PY write latency "$OUT" "${RECORDS[@]}"
fi

if [[ $MODE == pagesize ]]; then
    RECORDS=()
    n=${LATENCY_SIZES%% *} l=${LATENCIES%% *} default_page_size=$PAGE_SIZE
    for PAGE_SIZE in $PAGE_SIZES; do one pagesize "$n" "$l"; done
    PAGE_SIZE=$default_page_size
    echo
    $PY write pagesize "$OUT" "${RECORDS[@]}"
fi

if [[ $MODE == storm || $MODE == all ]]; then
    RECORDS=()
    one storm "$STORM_SIZE" "$STORM_MS"
    MOCK_EXTRA=(--storm "$STORM_SPEC")
    one storm "$STORM_SIZE" "$STORM_MS"
    MOCK_EXTRA=()
    echo
    $PY write storm "$OUT" "${RECORDS[@]}"
fi
echo
echo "results written to $OUT"
