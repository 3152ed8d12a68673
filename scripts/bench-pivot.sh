#!/usr/bin/env bash
# Pivot benchmark: vigil against zcat, DuckDB and jq on generated CloudTrail.
#
#   scripts/bench-pivot.sh [N]        (default 1000000 events)
#
# Builds release, generates N events into bench-data/trail-N (reused when present), then times,
# with /usr/bin/time -v (wall clock and peak RSS):
#   zcat   - decompressing every file to /dev/null (the floor for any reader of .json.gz)
#   vigil  - `vigil pivot ip:X --trail DIR --format jsonl` (best of RUNS runs)
#   duckdb - read_json_auto over the files, unnest Records, filter sourceIPAddress, count (if available:
#            python module, installed into bench-data/venv when pip can reach an index)
#   jq     - zcat | jq -c '.Records[] | select(.sourceIPAddress=="X")' (if installed)
# and checks vigil's match count against jq's (and DuckDB's). Then builds the index once
# (examples/bench/index.rs) and reports build time, peak RSS and further-pivot latency, and times
# `vigil hunt` with every bundled rule; prints each ratio against its target.
#
# Environment: RUNS (default 3), PIVOT=frequent_ip|rare_ip (default frequent_ip), SKIP_JQ=1,
# SKIP_DUCKDB=1, SKIP_HUNT=1, SKIP_INDEX=1.
set -euo pipefail

N=${1:-1000000}
RUNS=${RUNS:-3}
PIVOT=${PIVOT:-frequent_ip}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}
BENCH=$ROOT/bench-data
DIR=$BENCH/trail-$N
mkdir -p "$BENCH"

if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time" >&2
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi

echo "== building (release)" >&2
cargo build --release --quiet --bin vigil --example gen_trail --example bench
VIGIL=$CARGO_TARGET_DIR/release/vigil

if [ ! -f "$DIR/.pivots" ]; then
  echo "== generating $N events into $DIR" >&2
  rm -rf "$DIR"
  "$CARGO_TARGET_DIR/release/examples/gen_trail" "$N" "$DIR" >/dev/null
fi
pivot_value() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" "$DIR/.pivots"; }
IP=$(pivot_value "$PIVOT")
GZ_MB=$(du -sm "$DIR" | cut -f1)
FILES=$(find "$DIR" -name '*.gz' | wc -l)
echo "data: $N events, $FILES files, ${GZ_MB} MB on disk; pivot ip:$IP ($PIVOT)" >&2

# run NAME CMD...: runs CMD under /usr/bin/time -v, records wall seconds and peak RSS (KB).
declare -A WALL RSS
run() {
  local name=$1
  shift
  local log
  log=$(mktemp)
  /usr/bin/time -v -o "$log" "$@"
  local w r
  w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
  r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  rm -f "$log"
  if [ -z "${WALL[$name]:-}" ] || awk "BEGIN{exit !($w < ${WALL[$name]})}"; then
    WALL[$name]=$w
    RSS[$name]=$r
  fi
  printf '  %-7s %7.2f s  %7.0f MB\n' "$name" "$w" "$(echo "$r / 1024" | bc -l)" >&2
}

GZ_LIST=$(mktemp)
find "$DIR" -name '*.gz' -print0 | sort -z >"$GZ_LIST"

echo "== timing (best of $RUNS)" >&2
for _ in $(seq "$RUNS"); do
  run zcat sh -c "xargs -0 zcat <'$GZ_LIST' >/dev/null"
  run vigil sh -c "'$VIGIL' pivot 'ip:$IP' --trail '$DIR' --format jsonl >'$BENCH/vigil.out'"
done
VIGIL_COUNT=$(wc -l <"$BENCH/vigil.out")

DUCK_PY=""
if [ -z "${SKIP_DUCKDB:-}" ]; then
  if python3 -c 'import duckdb' 2>/dev/null; then
    DUCK_PY=python3
  elif [ -x "$BENCH/venv/bin/python" ] && "$BENCH/venv/bin/python" -c 'import duckdb' 2>/dev/null; then
    DUCK_PY=$BENCH/venv/bin/python
  elif python3 -m venv "$BENCH/venv" >/dev/null 2>&1 &&
    "$BENCH/venv/bin/pip" install -q duckdb >/dev/null 2>&1; then
    DUCK_PY=$BENCH/venv/bin/python
  else
    echo "  duckdb: not available (pip install duckdb failed); skipped" >&2
  fi
fi
DUCK_COUNT=""
if [ -n "$DUCK_PY" ]; then
  cat >"$BENCH/duck.py" <<EOF
import duckdb, sys
con = duckdb.connect()
q = """
SELECT count(*) FROM (
  SELECT unnest(Records) AS r
  FROM read_json_auto('$DIR/**/*.json.gz', maximum_object_size = 67108864)
) WHERE r.sourceIPAddress = '$IP'
"""
print(con.execute(q).fetchone()[0])
EOF
  run duckdb sh -c "'$DUCK_PY' '$BENCH/duck.py' >'$BENCH/duck.out'"
  DUCK_COUNT=$(cat "$BENCH/duck.out")
fi

JQ_COUNT=""
if [ -z "${SKIP_JQ:-}" ] && command -v jq >/dev/null; then
  run jq sh -c "xargs -0 zcat <'$GZ_LIST' | jq -c '.Records[] | select(.sourceIPAddress==\"$IP\")' >'$BENCH/jq.out'"
  JQ_COUNT=$(wc -l <"$BENCH/jq.out")
fi
rm -f "$GZ_LIST"

ratio() { echo "scale=3; $1 / $2" | bc -l | sed 's/^\./0./'; }
echo
echo "| tool   | wall (s) | peak RSS (MB) | matches |"
echo "|--------|---------:|--------------:|--------:|"
for t in zcat vigil duckdb jq; do
  [ -n "${WALL[$t]:-}" ] || continue
  case $t in vigil) c=$VIGIL_COUNT ;; duckdb) c=$DUCK_COUNT ;; jq) c=$JQ_COUNT ;; *) c="" ;; esac
  printf '| %-6s | %8.2f | %13.0f | %7s |\n' "$t" "${WALL[$t]}" "$(echo "${RSS[$t]} / 1024" | bc -l)" "$c"
done
echo
echo "vigil/zcat   = $(ratio "${WALL[vigil]}" "${WALL[zcat]}")  (target <= 1.0)"
[ -n "${WALL[duckdb]:-}" ] && echo "vigil/duckdb = $(ratio "${WALL[vigil]}" "${WALL[duckdb]}")  (target <= 0.25)"
echo "vigil peak RSS = $(echo "${RSS[vigil]} / 1024" | bc -l | cut -d. -f1) MB  (target < 450)"

STATUS=0
if [ -n "$JQ_COUNT" ]; then
  if [ "$VIGIL_COUNT" = "$JQ_COUNT" ]; then
    echo "correctness: vigil and jq both match $VIGIL_COUNT events"
  else
    echo "correctness: MISMATCH vigil=$VIGIL_COUNT jq=$JQ_COUNT"
    STATUS=1
  fi
fi
if [ -n "$DUCK_COUNT" ] && [ "$DUCK_COUNT" != "$VIGIL_COUNT" ]; then
  echo "correctness: MISMATCH vigil=$VIGIL_COUNT duckdb=$DUCK_COUNT"
  STATUS=1
fi

if [ -z "${SKIP_HUNT:-}" ]; then
  echo
  echo "== hunt (all bundled rules; best of $RUNS)" >&2
  for _ in $(seq "$RUNS"); do
    run hunt sh -c "'$VIGIL' hunt --trail '$DIR' --format jsonl >'$BENCH/hunt.out' 2>/dev/null"
  done
  echo "hunt: $(wc -l <"$BENCH/hunt.out") detections in ${WALL[hunt]} s"
  echo "hunt/pivot   = $(ratio "${WALL[hunt]}" "${WALL[vigil]}")  (target <= 2.0)"
fi

if [ -z "${SKIP_INDEX:-}" ]; then
  echo
  echo "== index (examples/bench/index.rs; best of $RUNS)"
  BEST=""
  for _ in $(seq "$RUNS"); do
    # Printed through the script's own stderr, not `tee /dev/stderr`: reopening /dev/stderr when
    # it is a file (a saved log) truncates it, and the log lost everything printed before.
    OUT=$("$CARGO_TARGET_DIR/release/examples/bench" index "$DIR")
    echo "$OUT" >&2
    LAST=$(echo "$OUT" | tail -1)
    B=$(echo "$LAST" | sed -n 's/.*build_s=\([0-9.]*\).*/\1/p')
    M=$(echo "$LAST" | sed -n 's/.*peak_rss_mib=\([0-9]*\).*/\1/p')
    if [ -z "$BEST" ] || awk "BEGIN{exit !($B < $BEST)}"; then BEST=$B; BEST_RSS=$M; fi
  done
  echo "index/zcat   = $(ratio "$BEST" "${WALL[zcat]}")  (target <= 0.6; build ${BEST} s)"
  echo "index peak RSS = ${BEST_RSS} MiB  (target <= 300)"
fi
exit $STATUS
