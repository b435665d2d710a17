#!/usr/bin/env bash
# Proves a backup: restores a pg_dump into a scratch database it creates,
# verifies the restored copy against the manifest taken with the dump, and
# drops the scratch database on every exit path.
#
#   scripts/backup-check.sh --dump DIR/dump.pgdump --manifest DIR/manifest.parity \
#       [--server postgres://user@host:5432] [--out REPORT_DIR] [options]
#   scripts/backup-check.sh --backup DIR            # DIR from scripts/backup.sh
#
# Options:
#   --backup DIR       shorthand for --dump DIR/dump.pgdump --manifest DIR/manifest.parity
#   --server URL       the PostgreSQL server to restore on; only scheme, user,
#                      password, host and port are used (default:
#                      $PARITY_SCRATCH_URL, else postgres://postgres@127.0.0.1:5432)
#   --out DIR          parity's report directory (default: reports/<timestamp>)
#   --timeout SECONDS  for the restore and for the check each (default 3600)
#   --jobs N           pg_restore jobs and parity connections (default 2)
#   --keep             keep the scratch database (for a look after a failure)
#
# The restore runs with --no-owner --no-privileges (the roles of the source
# need not exist here; ownership and grants are not part of the check);
# PG_RESTORE_OPTS adds options.
#
# The manifest is verified (version, checksum) before anything is restored.
#
# Exit: 0 the backup is proven (every table, index, constraint and
# sequence matches the manifest); 1 it is not (see the reports);
# 2 the check could not run (restore failed, bad manifest, timeout).
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "backup-check.sh: $*" >&2; exit 2; }

DUMP=
MANIFEST=
SERVER=${PARITY_SCRATCH_URL:-postgres://postgres@127.0.0.1:5432}
OUT=()
TIMEOUT=3600
JOBS=2
KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --backup) DUMP=${2:?--backup needs a value}/dump.pgdump; MANIFEST=$2/manifest.parity; shift 2 ;;
    --dump) DUMP=${2:?--dump needs a value}; shift 2 ;;
    --manifest) MANIFEST=${2:?--manifest needs a value}; shift 2 ;;
    --server) SERVER=${2:?--server needs a value}; shift 2 ;;
    --out) OUT=(--out "${2:?--out needs a value}"); shift 2 ;;
    --timeout) TIMEOUT=${2:?--timeout needs a value}; shift 2 ;;
    --jobs) JOBS=${2:?--jobs needs a value}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ -f "$DUMP" ] || die "no dump: pass --dump FILE or --backup DIR (got \"$DUMP\")"
[ -f "$MANIFEST" ] || die "no manifest: pass --manifest FILE or --backup DIR (got \"$MANIFEST\")"
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout takes whole seconds"
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "--jobs takes a positive number"

find_parity() {
  if [ -n "${PARITY:-}" ]; then echo "$PARITY"; return; fi
  if command -v parity >/dev/null 2>&1; then command -v parity; return; fi
  local root; root=$(cd "$(dirname "$0")/.." && pwd)
  for p in "$root/target/release/parity" "$root/target/debug/parity"; do
    if [ -x "$p" ]; then echo "$p"; return; fi
  done
  die "cannot find the parity binary: set PARITY=/path/to/parity or put it on PATH"
}
PARITY_BIN=$(find_parity)
command -v pg_restore >/dev/null || die "pg_restore is not installed"
command -v psql >/dev/null || die "psql is not installed"

# The server part only: scheme://[user[:password]@]host[:port]. The
# password goes to PGPASSWORD, never onto a command line.
[[ $SERVER =~ ^(postgres(ql)?://)([^/?]*) ]] || die "--server must be a postgres:// URL"
scheme=${BASH_REMATCH[1]}
authority=${BASH_REMATCH[3]}
if [[ $authority == *@* ]]; then
  userinfo=${authority%@*}
  hostport=${authority##*@}
  if [[ $userinfo == *:* ]]; then
    pw=${userinfo#*:}
    PGPASSWORD=$(printf '%b' "${pw//%/\\x}")
    export PGPASSWORD
    userinfo=${userinfo%%:*}
  fi
  BASE="$scheme$userinfo@$hostport"
else
  BASE="$scheme$authority"
fi

SCRATCH="parity_scratch_$(date -u +%Y%m%d%H%M%S)_$$"
CREATED=0
admin() { psql --no-psqlrc -v ON_ERROR_STOP=1 -q -d "$BASE/postgres" -c "$1"; }
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  # Anything still running (a restore or check cut short by a signal).
  local children; children=$(jobs -p)
  if [ -n "$children" ]; then
    kill -TERM $children 2>/dev/null || true
    wait 2>/dev/null || true
  fi
  if [ "$CREATED" -eq 1 ]; then
    if [ "$KEEP" -eq 1 ]; then
      echo "backup-check.sh: kept the scratch database $SCRATCH (drop it with: DROP DATABASE \"$SCRATCH\")" >&2
    elif ! admin "DROP DATABASE IF EXISTS \"$SCRATCH\" WITH (FORCE)" >/dev/null; then
      echo "backup-check.sh: could not drop the scratch database $SCRATCH; drop it by hand" >&2
      [ "$rc" -eq 0 ] && rc=2
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP

# 0. The manifest first: a truncated or corrupted manifest is found in a
#    second, before a restore that may take an hour.
manifest_rc=0
"$PARITY_BIN" --color never manifest --verify --manifest "$MANIFEST" >&2 || manifest_rc=$?
[ "$manifest_rc" -eq 0 ] || die "the manifest $MANIFEST is not sound (see above); nothing restored"

# 1. A scratch database, from template0 so nothing of template1 leaks in.
admin "CREATE DATABASE \"$SCRATCH\" TEMPLATE template0" || die "cannot create the scratch database on $BASE"
CREATED=1
echo "backup-check.sh: restoring $(basename "$DUMP") into $SCRATCH" >&2

# 2. The restore. Run in the background so a signal reaches the trap at once.
# shellcheck disable=SC2086
timeout "$TIMEOUT" pg_restore --exit-on-error --no-owner --no-privileges --jobs="$JOBS" \
  ${PG_RESTORE_OPTS:-} --dbname="$BASE/$SCRATCH" "$DUMP" &
restore_rc=0
wait $! || restore_rc=$?
[ "$restore_rc" -eq 0 ] || die "pg_restore failed (exit $restore_rc; 124 is the timeout)"

# 3. The check. parity reads the target URL from the environment.
export PARITY_TARGET_URL="$BASE/$SCRATCH"
timeout "$TIMEOUT" "$PARITY_BIN" --color never --jobs "$JOBS" "${OUT[@]}" \
  backup --manifest "$MANIFEST" &
check_rc=0
wait $! || check_rc=$?
case $check_rc in
  0) echo "backup-check.sh: PROVEN: the restored copy matches the manifest" >&2 ;;
  1) echo "backup-check.sh: NOT PROVEN: the restored copy differs from the manifest (see the reports)" >&2 ;;
  124) echo "backup-check.sh: the check timed out after ${TIMEOUT}s" >&2; check_rc=2 ;;
  *) echo "backup-check.sh: the check could not run (exit $check_rc)" >&2; check_rc=2 ;;
esac
exit "$check_rc"
