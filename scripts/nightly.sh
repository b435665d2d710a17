#!/usr/bin/env bash
# The nightly job, for cron or a systemd timer: the pre-deployment gate
# (`parity run`) and the backup check, with one dated report directory per
# night, the last N kept, reports/latest pointing at the newest, a plain log
# (no progress bars, no colour) and an exit code the cron mailer understands.
#
#   scripts/nightly.sh [options]
#
# Options (each also from the environment):
#   --config FILE      parity.toml for `parity run`            ($PARITY_CONFIG)
#                      (without it the run step is skipped)
#   --backup-url URL   take a fresh backup of this database     ($NIGHTLY_BACKUP_URL)
#                      (scripts/backup.sh) and prove it
#   --backup DIR       or prove an existing backup: DIR holds   ($NIGHTLY_BACKUP_DIR)
#                      dump.pgdump and manifest.parity
#   --reports DIR      where the dated directories go           ($NIGHTLY_REPORTS, default reports)
#   --keep N           dated directories to keep                ($NIGHTLY_KEEP, default 14)
#   --row-hashes       fresh backups store row hashes           ($NIGHTLY_ROW_HASHES=1)
#   The scratch server for the restore: $PARITY_SCRATCH_URL (see backup-check.sh).
#
# Layout of one night, reports/2026-01-31/:
#   nightly.log          everything every step printed
#   run/                 parity run's reports (junit.xml, summary.md, …)
#   backup/              the fresh dump + manifest (with --backup-url)
#   backup-check/        parity backup's reports (parity.csv, catalog.csv, …)
#
# stdout gets a short summary (what cron mails); the details are in the log.
# Exit: 0 everything proven; 1 a difference or finding; 2 a step could not
# run (or nothing was configured to run).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONFIG=${PARITY_CONFIG:-}
BACKUP_URL=${NIGHTLY_BACKUP_URL:-}
BACKUP_DIR=${NIGHTLY_BACKUP_DIR:-}
REPORTS=${NIGHTLY_REPORTS:-reports}
KEEP=${NIGHTLY_KEEP:-14}
ROW_HASHES=()
[ "${NIGHTLY_ROW_HASHES:-0}" = 1 ] && ROW_HASHES=(--row-hashes)
while [ $# -gt 0 ]; do
  case $1 in
    --config) CONFIG=${2:?}; shift 2 ;;
    --backup-url) BACKUP_URL=${2:?}; shift 2 ;;
    --backup) BACKUP_DIR=${2:?}; shift 2 ;;
    --reports) REPORTS=${2:?}; shift 2 ;;
    --keep) KEEP=${2:?}; shift 2 ;;
    --row-hashes) ROW_HASHES=(--row-hashes); shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
    *) echo "nightly.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $KEEP =~ ^[1-9][0-9]*$ ]] || { echo "nightly.sh: --keep takes a positive number" >&2; exit 2; }

if [ -z "${PARITY:-}" ]; then
  if command -v parity >/dev/null 2>&1; then PARITY=$(command -v parity)
  elif [ -x "$ROOT/target/release/parity" ]; then PARITY=$ROOT/target/release/parity
  else echo "nightly.sh: cannot find parity: set PARITY or put it on PATH" >&2; exit 2
  fi
fi
export PARITY
# A clean log: no colour, no progress bars.
export NO_COLOR=1 PARITY_COLOR=never CI=${CI:-1}

mkdir -p "$REPORTS"
night="$REPORTS/$(date -u +%Y-%m-%d)"
[ -e "$night" ] && night="$night-$(date -u +%H%M%S)"
mkdir -p "$night"
LOG="$night/nightly.log"
exec 3>&1 >>"$LOG" 2>&1

say() { printf '%s %s\n' "$(date -u +%H:%M:%SZ)" "$*"; printf 'nightly: %s\n' "$*" >&3; }
WORST=0
RAN=0
record() { # step exit-code
  RAN=$((RAN + 1))
  case $2 in
    0) say "$1: ok" ;;
    1) say "$1: DIFFERENCES (exit 1)"; [ "$WORST" -lt 1 ] && WORST=1 ;;
    *) say "$1: FAILED (exit $2)"; WORST=2 ;;
  esac
}
finish() {
  local rc=$?
  trap - EXIT
  [ "$rc" -ne 0 ] && [ "$WORST" -lt 2 ] && WORST=2
  [ "$RAN" -eq 0 ] && { say "nothing to run: give --config and/or --backup-url / --backup"; WORST=2; }
  ln -sfn "$(basename "$night")" "$REPORTS/latest"
  # Keep the newest $KEEP dated directories.
  find "$REPORTS" -mindepth 1 -maxdepth 1 -type d -name '20[0-9][0-9]-[0-1][0-9]-[0-3][0-9]*' -printf '%f\n' \
    | sort | head -n "-$KEEP" | while read -r old; do rm -rf "${REPORTS:?}/$old"; done
  say "done: exit $WORST; reports in $night"
  exit "$WORST"
}
trap finish EXIT
trap 'say "interrupted"; WORST=2; exit 2' INT TERM HUP

say "nightly run into $night"

if [ -n "$CONFIG" ]; then
  say "parity run --config $CONFIG"
  rc=0
  "$PARITY" --config "$CONFIG" --out "$night/run" run || rc=$?
  record "run" "$rc"
fi

if [ -n "$BACKUP_URL" ]; then
  say "backup: pg_dump + manifest"
  rc=0
  "$ROOT/scripts/backup.sh" --url "$BACKUP_URL" --out "$night/backup" "${ROW_HASHES[@]}" || rc=$?
  if [ "$rc" -eq 0 ]; then
    BACKUP_DIR="$night/backup"
  else
    record "backup" "$rc"
    BACKUP_DIR=
  fi
fi
if [ -n "$BACKUP_DIR" ]; then
  say "backup check: restore $BACKUP_DIR and verify"
  rc=0
  "$ROOT/scripts/backup-check.sh" --backup "$BACKUP_DIR" --out "$night/backup-check" || rc=$?
  record "backup check" "$rc"
fi
