#!/usr/bin/env bash
# Takes a backup that can be proven later: a pg_dump custom-format dump and
# a parity manifest of exactly the same data, even on a live database.
#
#   scripts/backup.sh --url postgres://user@host:5432/db --out DIR [options]
#   DATABASE_URL=postgres://… scripts/backup.sh --out DIR
#
# Options:
#   --url URL          the database (default: $DATABASE_URL)
#   --out DIR          where dump.pgdump and manifest.parity go (created)
#   --row-hashes       store a hash per row, so a failed check names rows
#   --timeout SECONDS  give up after this long (default 3600; each of the
#                      manifest and the dump, and 60 s for the snapshot id)
#   --jobs N           parity's connections for the manifest
#
# How: `parity manifest --export-snapshot` prints its snapshot id, writes
# the manifest in that snapshot and holds it open until its stdin closes;
# `pg_dump --snapshot=ID` dumps in the same snapshot meanwhile. Both files
# are written under temporary names and moved into place only when both
# succeeded: on any failure, timeout or signal nothing is left behind and
# no process is left running.
#
# The URL never appears on a command line: parity reads it from
# PARITY_URL, pg_dump gets the password through PGPASSWORD.
#
# Prints the backup folder (DIR) on stdout when done.
#
# Exit: 0 dump and manifest written; 2 anything failed.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "backup.sh: $*" >&2; exit 2; }

URL=${DATABASE_URL:-}
OUT=
ROW_HASHES=()
TIMEOUT=3600
JOBS=()
while [ $# -gt 0 ]; do
  case $1 in
    --url) URL=${2:?--url needs a value}; shift 2 ;;
    --out) OUT=${2:?--out needs a value}; shift 2 ;;
    --row-hashes) ROW_HASHES=(--row-hashes); shift ;;
    --timeout) TIMEOUT=${2:?--timeout needs a value}; shift 2 ;;
    --jobs) JOBS=(--jobs "${2:?--jobs needs a value}"); shift 2 ;;
    -h|--help) usage ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ -n "$URL" ] || die "no database: pass --url or set DATABASE_URL"
[ -n "$OUT" ] || die "no output directory: pass --out DIR"
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout takes whole seconds"
case $URL in postgres://*|postgresql://*) ;; *) die "backup.sh dumps PostgreSQL; the URL must start with postgres://" ;; esac

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
command -v pg_dump >/dev/null || die "pg_dump is not installed"

# postgres://user:pass@host/db → PGPASSWORD=pass, postgres://user@host/db
PG_URL=$URL
if [[ $URL =~ ^(postgres(ql)?://)([^@/]*)@(.*)$ ]]; then
  userinfo=${BASH_REMATCH[3]}
  if [[ $userinfo == *:* ]]; then
    pw=${userinfo#*:}
    PGPASSWORD=$(printf '%b' "${pw//%/\\x}")
    export PGPASSWORD
    PG_URL="${BASH_REMATCH[1]}${userinfo%%:*}@${BASH_REMATCH[4]}"
  fi
fi

mkdir -p "$OUT"
work=$(mktemp -d "$OUT/.backup.XXXXXX")
MANIFEST_PID=
DUMP_PID=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  for pid in $DUMP_PID $MANIFEST_PID; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
  if [ "$rc" -ne 0 ]; then echo "backup.sh: failed; nothing written to $OUT" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP

# 1. The manifest side: snapshot id first, then the manifest, then it waits.
export PARITY_URL=$URL
# parity writes into the work dir; its messages name the final path (the
# file is moved there once the dump succeeded too).
coproc MANIFEST {
  exec timeout "$TIMEOUT" "$PARITY_BIN" --color never "${JOBS[@]}" manifest \
    --manifest "$work/manifest.parity" --export-snapshot "${ROW_HASHES[@]}" \
    2> >(sed -u "s|$work/manifest.parity|$OUT/manifest.parity|g" >&2)
}
# Keep our own copies: bash forgets a coprocess's descriptors when it exits.
exec {to_parity}>&"${MANIFEST[1]}" {from_parity}<&"${MANIFEST[0]}"
eval "exec ${MANIFEST[1]}>&- ${MANIFEST[0]}<&-"

SNAPSHOT=
IFS= read -r -t 60 -u "$from_parity" SNAPSHOT || true
[[ $SNAPSHOT =~ ^[0-9A-Fa-f]+-[0-9A-Fa-f]+(-[0-9]+)?$ ]] \
  || die "parity manifest did not print a snapshot id within 60 s (got \"$SNAPSHOT\")"
echo "backup.sh: snapshot $SNAPSHOT exported; dumping" >&2

# 2. The dump, in the same snapshot. It must not inherit parity's stdin.
timeout "$TIMEOUT" pg_dump --format=custom --snapshot="$SNAPSHOT" \
  --file="$work/dump.pgdump" --dbname="$PG_URL" {to_parity}>&- {from_parity}<&- &
DUMP_PID=$!
dump_rc=0
wait "$DUMP_PID" || dump_rc=$?
DUMP_PID=
[ "$dump_rc" -eq 0 ] || die "pg_dump failed (exit $dump_rc; 124 is the timeout)"

# 3. Release the snapshot; the manifest may still be finishing.
exec {to_parity}>&-
manifest_rc=0
wait "$MANIFEST_PID" || manifest_rc=$?
MANIFEST_PID=
exec {from_parity}<&-
[ "$manifest_rc" -eq 0 ] || die "parity manifest failed (exit $manifest_rc; 124 is the timeout)"
[ -s "$work/manifest.parity" ] && [ -s "$work/dump.pgdump" ] || die "an output file is missing"

mv -f "$work/dump.pgdump" "$OUT/dump.pgdump"
mv -f "$work/manifest.parity" "$OUT/manifest.parity"
echo "backup.sh: wrote $OUT/dump.pgdump and $OUT/manifest.parity (snapshot $SNAPSHOT)" >&2
# The final folder on stdout, for scripts: backup-check.sh --backup "$(scripts/backup.sh …)".
echo "$OUT"
