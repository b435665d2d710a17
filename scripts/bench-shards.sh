#!/usr/bin/env bash
# The sharded-run benchmark (issue 15), once, outside CI:
#   - N = 1, 2, 4 shards of `check --tables transactions` on this machine,
#     all shards at once: wall time of the slowest, and each shard's peak
#     RSS (/usr/bin/time -v); then `parity merge`;
#   - resume overhead: a run killed (SIGKILL) once half its chunks are in
#     its journal, then `--resume`: the time to finish, against half of a
#     full run.
#
#   BENCH_ROWS=20000000 scripts/bench-shards.sh      # the issue's size (~10 GB per database)
#   BENCH_ROWS=200000 PARITY_BIN=target/debug/parity scripts/bench-shards.sh
#
# Needs: PostgreSQL on 127.0.0.1:5432 (scripts/services.sh), psql, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${BENCH_ROWS:-20000000}
JOBS=${JOBS:-2}
CHUNK_ROWS=${CHUNK_ROWS:-20000}
# Rows of B changed against A (a --drift changed: amount); 0: identical.
CHANGED=${BENCH_CHANGED:-1%}
SERVER=${PARITY_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
if [ -z "${PARITY_BIN:-}" ]; then cargo build --release --quiet; fi
PARITY=${PARITY_BIN:-$PWD/target/release/parity}
PARITY=$(realpath "$PARITY")

work=$(mktemp -d)
A=parity_bench_shard_a B=parity_bench_shard_b
cleanup() {
  rm -rf "$work"
  for db in "$A" "$B"; do psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
rss_mib() { awk '/Maximum resident set size/ { printf "%.0f", $NF / 1024 }' "$1"; }

echo "== seeding $ROWS transactions into A and B ($CHANGED changed)" >&2
"$PARITY" --quiet seed --url "$SERVER/$A" --rows "$ROWS" --force
if [ "$CHANGED" = 0 ]; then
  "$PARITY" --quiet seed --url "$SERVER/$B" --rows "$ROWS" --force
else
  "$PARITY" --quiet seed --url "$SERVER/$B" --rows "$ROWS" --force --drift "changed:$CHANGED" >/dev/null
fi
cat > "$work/parity.toml" <<TOML
[source]
orm = "prisma"
url = "$SERVER/$A"
mapping = "$PWD/fixtures/bikeshop/prisma/schema.prisma"
[target]
orm = "prisma"
url = "$SERVER/$B"
mapping = "$PWD/fixtures/bikeshop/prisma/schema.prisma"
[check]
jobs = $JOBS
chunk_rows = $CHUNK_ROWS
TOML
check() { "$PARITY" --quiet --config "$work/parity.toml" check --tables transactions "$@"; }

echo "rows=$ROWS changed=$CHANGED jobs=$JOBS chunk_rows=$CHUNK_ROWS"
for n in 1 2 4; do
  t0=$(now)
  pids=()
  for ((i = 0; i < n; i++)); do
    /usr/bin/time -v -o "$work/time-$n-$i" "$PARITY" --quiet --config "$work/parity.toml" \
      --out "$work/n$n/shard-$i" check --tables transactions --shard "$i/$n" >/dev/null &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || [ $? -eq 1 ]; done
  t1=$(now)
  "$PARITY" --quiet merge "$work"/n$n/shard-* --out "$work/n$n/merged" >/dev/null || [ $? -eq 1 ]
  rss=""
  for ((i = 0; i < n; i++)); do rss="$rss $(rss_mib "$work/time-$n-$i")"; done
  echo "shards=$n wall_s=$(elapsed "$t0" "$t1") peak_rss_mib_per_shard=[${rss# }] different=$(awk -F, 'NR==2 {print $9}' "$work/n$n/merged/parity.csv")"
done

# Resume overhead: kill at 50% of the chunks, resume, against half a run.
t0=$(now); check --out "$work/full" >/dev/null || [ $? -eq 1 ]; t1=$(now)
full=$(elapsed "$t0" "$t1")
chunks=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['tables'][0]['chunks'])" "$work/full/report.json")
# The binary itself in the background (not the shell function), so that
# SIGKILL hits parity.
"$PARITY" --quiet --config "$work/parity.toml" --out "$work/killed" check --tables transactions >/dev/null 2>&1 &
pid=$!
while [ "$(($(wc -l < "$work/killed/journal.jsonl" 2>/dev/null || echo 1) - 1))" -lt $((chunks / 2)) ]; do sleep 0.05; done
kill -9 "$pid"; wait "$pid" 2>/dev/null || true
done_before=$(($(wc -l < "$work/killed/journal.jsonl") - 1))
t0=$(now); check --resume "$work/killed" >/dev/null || [ $? -eq 1 ]; t1=$(now)
resumed=$(elapsed "$t0" "$t1")
same=$(cmp -s "$work/full/differences.csv" "$work/killed/differences.csv" && echo yes || echo NO)
echo "full_s=$full chunks=$chunks killed_after=$done_before resume_s=$resumed half_full_s=$(python3 -c "print(f'{$full / 2:.2f}')") same_differences=$same"
