#!/usr/bin/env bash
# parity's benchmark. Prints ratios measured in this one run (these machines
# are shared and noisy: compare ratios, not absolute times).
#
#   scripts/bench.sh                 # 1M and 5M transactions
#   BENCH_ROWS="1000000" RUNS=5 scripts/bench.sh
#
# For each size it seeds two PostgreSQL databases A and B (identical) and C
# (A with 1% of transactions changed), then measures, alternating the
# commands within each round:
#   - parity check of transactions, A vs B and A vs C;
#   - the physical limit: COPY (SELECT * FROM transactions) TO binary on A
#     and B at the same time;
#   - reladiff (pip install reladiff), data-diff's maintained fork, with its
#     default algorithm on the same columns;
#   - parity's peak RSS (/usr/bin/time -v);
#   - pushdown (issue 13): parity check --mode pushdown, A vs B and A vs C,
#     against COPY binary of both sides and against its own identical time;
#     and, per mode, the bytes received from the servers per row (parity's
#     report.json `bytes_received`) and the server CPU seconds (from /proc of
#     the postmaster and its backends: PostgreSQL must run on this host).
# The client-path figures run with --mode client (auto pushes down).
# Needs: PostgreSQL on 127.0.0.1:5432 (scripts/services.sh), psql, python3.
# A MariaDB section follows (issue 12, BENCH_MARIADB=0 skips it): see
# mariadb_bench below.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS_LIST=${BENCH_ROWS:-"1000000 5000000"}
RUNS=${RUNS:-3}
JOBS=${JOBS:-4}
SERVER=${PARITY_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
RELADIFF_MAX_ROWS=${RELADIFF_MAX_ROWS:-5000000}
RELADIFF_CHANGED_MAX_ROWS=${RELADIFF_CHANGED_MAX_ROWS:-1000000}

bash scripts/services.sh >/dev/null 2>&1 || true
# PARITY_BIN: time another build (e.g. a copy of the previous one) instead.
if [ -z "${PARITY_BIN:-}" ]; then cargo build --release --quiet; fi
PARITY=${PARITY_BIN:-$PWD/target/release/parity}
if [ -n "${ROWS_LIST// /}" ]; then
  command -v reladiff >/dev/null || pip install --quiet 'reladiff[postgresql]' >/dev/null 2>&1 || true
  [ -x /usr/bin/time ] || { apt-get install -y -qq time >/dev/null 2>&1 || true; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }
median() { python3 -c "import sys,statistics; v=[float(x) for x in sys.argv[1:]]; print(f'{statistics.median(v):.3f}')" "$@"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }

config() { # source-db target-db
  cat > "$work/$1-$2.toml" <<TOML
[source]
orm = "prisma"
url = "$SERVER/$1"
mapping = "$PWD/fixtures/bikeshop/prisma/schema.prisma"
[target]
orm = "prisma"
url = "$SERVER/$2"
mapping = "$PWD/fixtures/bikeshop/prisma/schema.prisma"
[check]
jobs = $JOBS
TOML
  echo "$work/$1-$2.toml"
}

time_cmd() { # prints seconds; command output discarded
  local t0 t1; t0=$(now); "$@" >/dev/null 2>&1 || true; t1=$(now); elapsed "$t0" "$t1"
}

copy_both() {
  psql "$SERVER/$1" -qc "\\copy (SELECT * FROM transactions) TO '/dev/null' WITH (FORMAT binary)" &
  local p=$!
  psql "$SERVER/$2" -qc "\\copy (SELECT * FROM transactions) TO '/dev/null' WITH (FORMAT binary)"
  wait $p
}
copy_one() { psql "$SERVER/$1" -qc "\\copy (SELECT * FROM transactions) TO '/dev/null' WITH (FORMAT binary)"; }

parity_check() { # config [mode [out]]
  "$PARITY" --quiet --config "$1" --out "${3:-$work/out}" check --tables transactions --mode "${2:-client}"
}
pushdown_check() { parity_check "$1" pushdown; }

# CPU seconds the PostgreSQL server has used so far: the postmaster's reaped
# children (backends and parallel workers that ended) plus its live ones.
PGDATA_DIR=$(psql "$SERVER/postgres" -Atc "SHOW data_directory" 2>/dev/null || true)
server_cpu() {
  python3 - "$PGDATA_DIR" <<'PY'
import os, sys
try:
    pm = int(open(os.path.join(sys.argv[1], "postmaster.pid")).readline())
except Exception:
    print("nan"); sys.exit()
tick = os.sysconf("SC_CLK_TCK")
def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()
s = stat(pm)
total = int(s[13]) + int(s[14])  # cutime, cstime (fields 16, 17)
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            f = stat(p)
        except OSError:
            continue
        if int(f[1]) == pm:
            total += int(f[11]) + int(f[12])  # utime, stime
print(total / tick)
PY
}
# "bytes per row  server CPU seconds" of one run of `parity check` in MODE.
measure_mode() { # config mode
  local before after out=$work/measure-$2
  before=$(server_cpu)
  parity_check "$1" "$2" "$out" >/dev/null 2>&1 || true
  sleep 0.5 # let the backends exit and be reaped
  after=$(server_cpu)
  python3 - "$out/report.json" "$before" "$after" <<'PY'
import json, sys
t = [t for t in json.load(open(sys.argv[1]))["tables"] if t["source_table"] == "transactions"][0]
rows = max(t["source_rows"], 1)
cpu = float(sys.argv[3]) - float(sys.argv[2])
print(f"{t['bytes_received'] / rows:.4f} {cpu:.2f}")
PY
}
reladiff_run() {
  reladiff "postgresql://postgres@127.0.0.1:5432/$1" transactions "postgresql://postgres@127.0.0.1:5432/$2" transactions -k id -c '%' -s
}
peak_rss_mib() {
  /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident set size/ {printf "%.0f", $2/1024}'
}

declare -a REPORT PUSH
for N in $ROWS_LIST; do
  A=parity_bench_a_$N; B=parity_bench_b_$N; C=parity_bench_c_$N
  echo "== $N transactions: seeding A, B (identical) and C (1% changed)" >&2
  t0=$(now)
  "$PARITY" --quiet seed --url "$SERVER/$A" --rows "$N" --force
  t1=$(now)
  echo "   seed A: $(elapsed "$t0" "$t1") s" >&2
  "$PARITY" --quiet seed --url "$SERVER/$B" --rows "$N" --force
  "$PARITY" --quiet seed --url "$SERVER/$C" --rows "$N" --force --drift changed:1% >/dev/null
  psql "$SERVER/$A" -qc "VACUUM ANALYZE" ; psql "$SERVER/$B" -qc "VACUUM ANALYZE"; psql "$SERVER/$C" -qc "VACUUM ANALYZE"
  AB=$(config "$A" "$B"); AC=$(config "$A" "$C")
  # Warm the caches once.
  copy_both "$A" "$B"; parity_check "$AB" >/dev/null || true

  p_same=(); p_changed=(); c_both=(); c_one=(); r_same=(); r_changed=(); d_same=(); d_changed=()
  for i in $(seq 1 "$RUNS"); do
    echo "   round $i/$RUNS" >&2
    c_both+=("$(time_cmd copy_both "$A" "$B")")
    p_same+=("$(time_cmd parity_check "$AB")")
    c_one+=("$(time_cmd copy_one "$A")")
    p_changed+=("$(time_cmd parity_check "$AC")")
    d_same+=("$(time_cmd pushdown_check "$AB")")
    d_changed+=("$(time_cmd pushdown_check "$AC")")
    if command -v reladiff >/dev/null && [ "$N" -le "$RELADIFF_MAX_ROWS" ]; then
      r_same+=("$(time_cmd reladiff_run "$A" "$B")")
      if [ "$N" -le "$RELADIFF_CHANGED_MAX_ROWS" ]; then
        r_changed+=("$(time_cmd reladiff_run "$A" "$C")")
      fi
    fi
  done
  rss=$(peak_rss_mib "$PARITY" --quiet --config "$AB" --out "$work/out" check --tables transactions --mode client)
  m_same=$(median "${p_same[@]}"); m_changed=$(median "${p_changed[@]}")
  m_both=$(median "${c_both[@]}"); m_one=$(median "${c_one[@]}")
  m_rs=n/a; m_rc=n/a; vs_r=n/a; vs_rc=n/a
  if [ ${#r_same[@]} -gt 0 ]; then m_rs=$(median "${r_same[@]}"); vs_r=$(ratio "$m_rs" "$m_same"); fi
  if [ ${#r_changed[@]} -gt 0 ]; then m_rc=$(median "${r_changed[@]}"); vs_rc=$(ratio "$m_rc" "$m_changed"); fi
  m_dsame=$(median "${d_same[@]}"); m_dchanged=$(median "${d_changed[@]}")
  read -r c_bpr c_cpu <<<"$(measure_mode "$AB" client)"
  read -r d_bpr d_cpu <<<"$(measure_mode "$AB" pushdown)"
  read -r _ d_cpu_c <<<"$(measure_mode "$AC" pushdown)"
  vs_pr=n/a; vs_prc=n/a
  if [ "$m_rs" != n/a ]; then vs_pr=$(ratio "$m_rs" "$m_dsame"); fi
  if [ "$m_rc" != n/a ]; then vs_prc=$(ratio "$m_rc" "$m_dchanged"); fi
  PUSH+=("| $N | $m_both | $m_dsame | $(ratio "$m_both" "$m_dsame") | $m_dchanged | $(ratio "$m_dchanged" "$m_dsame") | $c_bpr | $d_bpr | $(ratio "$c_bpr" "$d_bpr") | $c_cpu | $d_cpu | $d_cpu_c | $vs_pr | $vs_prc |")
  REPORT+=("| $N | $m_one | $m_both | $m_same | $(ratio "$m_same" "$m_both") | $m_changed | $(ratio "$m_changed" "$m_same") | $m_rs | $vs_r | $m_rc | $vs_rc | $rss |")
  for db in "$A" "$B" "$C"; do psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"; done
done

echo
echo "parity check of transactions (medians of $RUNS alternated runs, seconds; jobs=$JOBS)"
echo
echo "| rows | COPY binary, one side | COPY binary, both sides | parity, identical | parity / COPY both (target ≤ 1.3) | parity, 1% changed | 1% / identical (target ≤ 1.2) | reladiff, identical | reladiff / parity (target ≥ 1.6) | reladiff, 1% changed | reladiff / parity, 1% | parity peak RSS MiB (target < 200) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${REPORT[@]}"
echo
echo "pushdown (issue 13): parity check --mode pushdown of transactions (medians of $RUNS alternated runs, seconds; bytes and CPU from one run each)"
echo
echo "| rows | COPY binary, both sides | pushdown, identical | COPY both / pushdown (target ≥ 2) | pushdown, 1% changed | 1% / identical (target ≤ 1.5) | client bytes/row | pushdown bytes/row | client / pushdown bytes (target ≥ 50) | server CPU s, client | server CPU s, pushdown | server CPU s, pushdown 1% | reladiff / pushdown, identical (target ≥ 3) | reladiff / pushdown, 1% (target ≥ 10) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${PUSH[@]}"

# --- manifest benchmark (issue 6) ---------------------------------------------
# At BENCH_MANIFEST_ROWS transactions (default 5M; the other fixture tables
# scale with it) in one database: `parity manifest` against `pg_dump -Fc` of
# the same database (target: the manifest costs less than the dump), the
# manifest's size with and without --row-hashes, and the time to verify the
# restored copy (`parity backup --manifest`). Runs by default after the check
# benchmark; BENCH_MANIFEST=0 skips it, and BENCH_ROWS=" " runs it alone.
manifest_bench() {
  local n=${BENCH_MANIFEST_ROWS:-5000000}
  local db=parity_bench_manifest_$n restored=parity_bench_manifest_restored_$n
  local m=$work/bench.parity mrh=$work/bench-rh.parity dump=$work/bench.pgdump
  must_time() { # seconds of a command that must succeed
    local t0 t1; t0=$(now); "$@" >/dev/null 2>"$work/must_time.err" || { cat "$work/must_time.err" >&2; return 1; }
    t1=$(now); elapsed "$t0" "$t1"
  }
  drop_db() { PGOPTIONS="-c client_min_messages=warning" psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)"; }
  echo "== manifest benchmark: $n transactions" >&2
  "$PARITY" --quiet seed --url "$SERVER/$db" --rows "$n" --force
  psql "$SERVER/$db" -qc "VACUUM ANALYZE"
  copy_one "$db" # warm the cache once
  local t_dump=() t_man=() t_rh=()
  for i in $(seq 1 "$RUNS"); do
    echo "   round $i/$RUNS" >&2
    t_dump+=("$(must_time pg_dump --format=custom --file="$dump" "$SERVER/$db")")
    t_man+=("$(must_time "$PARITY" --quiet --jobs "$JOBS" manifest --url "$SERVER/$db" --manifest "$m")")
    t_rh+=("$(must_time "$PARITY" --quiet --jobs "$JOBS" manifest --url "$SERVER/$db" --manifest "$mrh" --row-hashes)")
  done
  echo "   restoring the dump" >&2
  drop_db "$restored"
  psql "$SERVER/postgres" -qc "CREATE DATABASE \"$restored\" TEMPLATE template0"
  pg_restore --exit-on-error --no-owner --no-privileges --jobs=2 --dbname="$SERVER/$restored" "$dump"
  psql "$SERVER/$restored" -qc "VACUUM ANALYZE"
  local t_ver=() t_ver_rh=()
  for i in $(seq 1 "$RUNS"); do
    t_ver+=("$(must_time "$PARITY" --quiet --jobs "$JOBS" --out "$work/verify" backup --manifest "$m" --target "$SERVER/$restored")")
    t_ver_rh+=("$(must_time "$PARITY" --quiet --jobs "$JOBS" --out "$work/verify" backup --manifest "$mrh" --target "$SERVER/$restored")")
  done
  local md mm mr mv mvr
  md=$(median "${t_dump[@]}"); mm=$(median "${t_man[@]}"); mr=$(median "${t_rh[@]}")
  mv=$(median "${t_ver[@]}"); mvr=$(median "${t_ver_rh[@]}")
  local size_dump size_m size_rh
  size_dump=$(stat -c %s "$dump"); size_m=$(stat -c %s "$m"); size_rh=$(stat -c %s "$mrh")
  mib() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 1048576:.1f}')" "$1"; }
  kib() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 1024:.1f}')" "$1"; }
  echo
  echo "manifests of the whole database at $n transactions (medians of $RUNS alternated runs, seconds; jobs=$JOBS)"
  echo
  echo "| rows | pg_dump -Fc | parity manifest | manifest / dump (target < 1) | manifest --row-hashes | row hashes / dump | dump MiB | manifest KiB | manifest --row-hashes MiB | verify restored copy | verify, with row hashes |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  echo "| $n | $md | $mm | $(ratio "$mm" "$md") | $mr | $(ratio "$mr" "$md") | $(mib "$size_dump") | $(kib "$size_m") | $(mib "$size_rh") | $mv | $mvr |"
  drop_db "$restored"; drop_db "$db"
}
if [ "${BENCH_MANIFEST:-1}" != 0 ]; then
  manifest_bench
fi
# --- end manifest benchmark (issue 6) ------------------------------------------

# --- MariaDB benchmark (issue 12) ----------------------------------------------
# At each of BENCH_MARIADB_ROWS transactions (default 1000000), two MariaDB
# databases A and B (identical) and C (1% changed), measured from one run:
#   - parity check of transactions, A vs B and A vs C (jobs=$JOBS);
#   - the physical limit: `mariadb --quick -e 'SELECT * FROM transactions'`
#     of A and B at the same time into /dev/null;
#   - reladiff on MySQL (pip install 'reladiff[mysql]'), same columns;
#   - parity's peak RSS.
# Targets at 1M rows: parity within 1.5x the limit, at least 2x faster than
# reladiff. Needs MariaDB on $PARITY_BENCH_MYSQL_URL (mysql://root@127.0.0.1:3306).
mariadb_bench() {
  local server=${PARITY_BENCH_MYSQL_URL:-mysql://root@127.0.0.1:3306}
  server=${server%/}
  local hp=${server#mysql://}; hp=${hp%%/*}
  local user=${hp%@*}; user=${user%%:*}; local hostport=${hp#*@}
  local host=${hostport%%:*} port=${hostport##*:}
  [ "$port" = "$hostport" ] && port=3306
  my() { mariadb --protocol=tcp -h "$host" -P "$port" -u "$user" "$@"; }
  command -v reladiff >/dev/null || pip install --quiet 'reladiff[mysql]' >/dev/null 2>&1 || true
  python3 -c 'import mysql.connector' 2>/dev/null || pip install --quiet mysql-connector-python >/dev/null 2>&1 || true
  myconfig() { # source-db target-db
    cat > "$work/my-$1-$2.toml" <<TOML
[source]
orm = "prisma"
url = "$server/$1"
mapping = "$PWD/fixtures/bikeshop/mariadb/prisma/schema.prisma"
[target]
orm = "prisma"
url = "$server/$2"
mapping = "$PWD/fixtures/bikeshop/mariadb/prisma/schema.prisma"
[check]
jobs = $JOBS
TOML
    echo "$work/my-$1-$2.toml"
  }
  select_both() {
    my --quick -e 'SELECT * FROM transactions' "$1" >/dev/null &
    local p=$!
    my --quick -e 'SELECT * FROM transactions' "$2" >/dev/null
    wait $p
  }
  my_reladiff() {
    reladiff "mysql://$user@$host:$port/$1" transactions "mysql://$user@$host:$port/$2" transactions -k id -c '%' -s
  }
  local REPORT_MY=()
  for N in ${BENCH_MARIADB_ROWS:-1000000}; do
    local A=parity_mbench_a_$N B=parity_mbench_b_$N C=parity_mbench_c_$N
    echo "== MariaDB, $N transactions: seeding A, B (identical) and C (1% changed)" >&2
    "$PARITY" --quiet seed --url "$server/$A" --rows "$N" --force
    "$PARITY" --quiet seed --url "$server/$B" --rows "$N" --force
    "$PARITY" --quiet seed --url "$server/$C" --rows "$N" --force --drift changed:1% >/dev/null
    local AB AC; AB=$(myconfig "$A" "$B"); AC=$(myconfig "$A" "$C")
    select_both "$A" "$B"; parity_check "$AB" >/dev/null || true # warm the caches
    local p_same=() p_changed=() s_both=() r_same=()
    for i in $(seq 1 "$RUNS"); do
      echo "   round $i/$RUNS" >&2
      s_both+=("$(time_cmd select_both "$A" "$B")")
      p_same+=("$(time_cmd parity_check "$AB")")
      p_changed+=("$(time_cmd parity_check "$AC")")
      if command -v reladiff >/dev/null; then r_same+=("$(time_cmd my_reladiff "$A" "$B")"); fi
    done
    local rss m_same m_changed m_both m_rs=n/a vs_r=n/a
    rss=$(peak_rss_mib "$PARITY" --quiet --config "$AB" --out "$work/out" check --tables transactions)
    m_same=$(median "${p_same[@]}"); m_changed=$(median "${p_changed[@]}"); m_both=$(median "${s_both[@]}")
    if [ ${#r_same[@]} -gt 0 ]; then m_rs=$(median "${r_same[@]}"); vs_r=$(ratio "$m_rs" "$m_same"); fi
    REPORT_MY+=("| $N | $m_both | $m_same | $(ratio "$m_same" "$m_both") | $m_changed | $m_rs | $vs_r | $rss |")
    for db in "$A" "$B" "$C"; do my -e "DROP DATABASE IF EXISTS \`$db\`"; done
  done
  echo
  echo "MariaDB: parity check of transactions (medians of $RUNS alternated runs, seconds; jobs=$JOBS)"
  echo
  echo "| rows | mariadb --quick SELECT, both sides | parity, identical | parity / limit (target ≤ 1.5) | parity, 1% changed | reladiff, identical | reladiff / parity (target ≥ 2) | parity peak RSS MiB |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${REPORT_MY[@]}"
}
if [ "${BENCH_MARIADB:-1}" != 0 ]; then
  mariadb_bench
fi
# --- end MariaDB benchmark (issue 12) ------------------------------------------

# --- timing stability benchmark (issue 18) ---------------------------------------
# The verdict of `parity timing` must not flap from run to run. Seeds the
# fixture with BENCH_TIMING_ROWS transactions (default 20000, the issue's
# size) into one PostgreSQL database, runs `parity timing` on the fixture's
# shipped operations BENCH_TIMING_RUNS times (default 10) at the default
# settings, and prints per operation how often each verdict came out
# (target: one verdict in at least 9 of 10 runs), the spread of the ratio
# and of the interval's lower bound, and the wall time per run. The machine
# is shared: other work on it is part of what the verdict must survive.
# Runs by default after the others; BENCH_TIMING=0 skips it, and
# BENCH_ROWS=" " BENCH_MANIFEST=0 BENCH_MARIADB=0 runs it alone. BENCH_TIMING_ARGS adds
# flags to every run (e.g. "--blocks 1").
timing_bench() {
  local n=${BENCH_TIMING_ROWS:-20000} runs=${BENCH_TIMING_RUNS:-10}
  local db=parity_bench_timing_$n
  local cfg=$PWD/fixtures/bikeshop/parity.toml
  PGOPTIONS="-c client_min_messages=warning" psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
  echo "== timing stability: $n transactions, $runs runs of parity timing" >&2
  "$PARITY" --quiet seed --url "$SERVER/$db" --rows "$n" --force
  psql "$SERVER/$db" -qc "VACUUM ANALYZE"
  local walls=()
  for i in $(seq 1 "$runs"); do
    local t0 t1
    t0=$(now)
    # shellcheck disable=SC2086
    DATABASE_URL="$SERVER/$db" "$PARITY" --quiet --config "$cfg" --out "$work/timing-$i" timing ${BENCH_TIMING_ARGS:-} >/dev/null 2>"$work/timing-$i.err" || true
    t1=$(now)
    walls+=("$(elapsed "$t0" "$t1")")
    [ -f "$work/timing-$i/timing-compare.csv" ] || { cat "$work/timing-$i.err" >&2; return 1; }
    echo "   run $i/$runs: ${walls[-1]} s" >&2
  done
  echo
  echo "parity timing, $runs runs at the default settings${BENCH_TIMING_ARGS:+ plus $BENCH_TIMING_ARGS} on $n transactions (shared, noisy machine)"
  echo
  python3 - "$work" "$runs" "${walls[@]}" <<'PY'
import csv, statistics, sys
work, runs, walls = sys.argv[1], int(sys.argv[2]), [float(x) for x in sys.argv[3:]]
kinds = ["same", "slower", "faster", "mismatch", "error"]
ops = {}
for i in range(1, runs + 1):
    with open(f"{work}/timing-{i}/timing-compare.csv") as f:
        for r in csv.DictReader(f):
            o = ops.setdefault(f"{r['repository']}/{r['operation']}", {"v": [], "r": [], "lo": [], "hi": []})
            o["v"].append(r["verdict"]); o["r"].append(float(r["ratio_p50"]))
            o["lo"].append(float(r["ci_low"])); o["hi"].append(float(r["ci_high"]))
print("| operation | " + " | ".join(kinds) + " | agreeing (target >= 9 of %d) | ratio p50 min-max | CI low min-max | CI high min-max |" % runs)
print("|---|" + "---:|" * len(kinds) + "---:|---|---|---|")
ok = True
for name, o in ops.items():
    top = max(o["v"].count(k) for k in kinds)
    ok &= top * 10 >= 9 * len(o["v"])
    print(f"| {name} | " + " | ".join(str(o['v'].count(k)) for k in kinds)
          + f" | {top}/{len(o['v'])} | {min(o['r']):.2f}-{max(o['r']):.2f} | {min(o['lo']):.2f}-{max(o['lo']):.2f}"
          + f" | {min(o['hi']):.2f}-{max(o['hi']):.2f} |")
print()
print(f"wall time per run: median {statistics.median(walls):.1f} s, min {min(walls):.1f} s, max {max(walls):.1f} s")
print("stability target met" if ok else "stability target NOT met")
PY
  if [ -n "${BENCH_TIMING_SAVE:-}" ]; then # keep every run's reports
    mkdir -p "$BENCH_TIMING_SAVE"; cp -r "$work"/timing-* "$BENCH_TIMING_SAVE"/
  fi
  PGOPTIONS="-c client_min_messages=warning" psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
}
if [ "${BENCH_TIMING:-1}" != 0 ]; then
  timing_bench
fi
# --- end timing stability benchmark (issue 18) -----------------------------------
