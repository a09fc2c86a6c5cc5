#!/usr/bin/env bash
# Downloads all 100,000 users (pages of 1000) and the big lists from a release looker-mock with curl;
# prints bytes, wall time, MB/s and the mock's RSS.
set -euo pipefail
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/looker-mock}
OUT=$(mktemp -d)
"$BIN" --users 100000 --looks 10000 --dashboards 5000 >"$OUT/stdout" 2>"$OUT/stderr" &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$OUT"' EXIT
for _ in $(seq 50); do grep -q listening "$OUT/stdout" 2>/dev/null && break; sleep 0.1; done
BASE=$(head -1 "$OUT/stdout" | sed 's/^listening on //')
echo "mock RSS at start: $(ps -o rss= -p $PID) KiB"
T=$(curl -s -X POST "$BASE/api/4.0/login" -d client_id=demo-client-id -d client_secret=demo-client-secret \
  | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
# curl config: one url + output per page, the token header once.
cfg() { echo "header = \"Authorization: token $T\""; echo "silent"; echo 'write-out = "%{size_download}\n"'
        for u in "$@"; do echo "url = \"$u\""; echo "output = /dev/null"; done; }
measure() { # label, extra curl flags, urls...
  local label=$1 flags=$2; shift 2
  cfg "$@" >"$OUT/cfg"
  local s e bytes
  s=$(date +%s.%N)
  bytes=$(curl $flags -K "$OUT/cfg" | awk '{s+=$1} END {print s}')
  e=$(date +%s.%N)
  python3 -c "import sys; t=$e-$s; print(f'{sys.argv[1]:<44} {$bytes/1e6:7.1f} MB {t:6.2f} s {$bytes/1e6/t:7.1f} MB/s')" "$label"
}
PAGES=(); for off in $(seq 0 1000 99000); do PAGES+=("$BASE/api/4.0/users?limit=1000&offset=$off&sorts=id"); done
measure "users: 100 pages of 1000, 1 connection" "" "${PAGES[@]}"
measure "users: 100 pages of 1000, 4 in parallel" "--no-progress-meter --parallel --parallel-max 4" "${PAGES[@]}"
echo "mock RSS after users: $(ps -o rss= -p $PID) KiB"
measure "looks/search (10,000, one response)" "" "$BASE/api/4.0/looks/search?sorts=id"
measure "dashboards/search (5,000, one response)" "" "$BASE/api/4.0/dashboards/search?sorts=id"
measure "folders/search (5,008, one response)" "" "$BASE/api/4.0/folders/search?sorts=id"
measure "looks/search sorts=updated_at desc,id (1st)" "" "$BASE/api/4.0/looks/search?sorts=updated_at%20desc,id&limit=1000&offset=0"
echo "mock peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$PID/status)"
kill -INT $PID; wait $PID || true
echo "--- mock stats (stderr) ---"; cat "$OUT/stderr"
