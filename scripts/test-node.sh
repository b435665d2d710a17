#!/usr/bin/env bash
# Node test step: scripts/drizzle-mapping.mjs and the bike-shop fixture world.
#
#   scripts/test-node.sh [--no-install]
#
# 1. `npm ci` in fixtures/bikeshop (from the npm registry or its cache), unless
#    node_modules is newer than package-lock.json / package.json (or --no-install).
# 2. The exporter on each flavour's schema.ts must print the committed
#    mapping.json, with `--import tsx` and through its own tsx fallback.
# 3. Its error paths: missing schema file, no tables, no drizzle-orm in the
#    working directory, bad arguments -> exit 2 with one line on stderr.
# 4. Each flavour's drizzle-kit snapshots are in sync with schema.ts
#    (`drizzle-kit generate` in a scratch copy finds nothing to migrate).
# Exits non-zero on any failure; the last line is "N passed, N failed".
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FX="$ROOT/fixtures/bikeshop"
EXPORTER="$ROOT/scripts/drizzle-mapping.mjs"
export NODE_NO_WARNINGS=1 DRIZZLE_KIT_NO_TELEMETRY=1 CHECKPOINT_DISABLE=1

PASSED=0
FAILED=0
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

pass() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $1"; [ -z "${2:-}" ] || sed 's/^/       /' <<<"$2" | head -40; }
finish() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; exit $?; }

# ------------------------------------------------------------------ install
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$node_major" -lt 20 ]; then
  fail "node >= 20 is installed (found $(node --version 2>&1))"
  finish
fi
install_flags=(--prefer-offline --no-audit --no-fund --loglevel=error)
node_prefix="$(dirname "$(dirname "$(command -v node)")")"
if [ -f "$node_prefix/include/node/node.h" ]; then
  # better-sqlite3 (Prisma's SQLite adapter, used by other fixture tools) has no
  # downloadable prebuilt binary here: node-gyp builds it against these headers.
  export npm_config_nodedir="$node_prefix"
else
  install_flags+=(--ignore-scripts) # the exporter and drizzle-kit need no native module
fi
if [ "${1:-}" = "--no-install" ]; then
  :
elif [ "$FX/node_modules/.package-lock.json" -nt "$FX/package-lock.json" ] \
  && [ "$FX/node_modules/.package-lock.json" -nt "$FX/package.json" ]; then
  echo "(fixtures/bikeshop/node_modules is up to date: npm ci skipped)"
elif out="$(cd "$FX" && npm ci "${install_flags[@]}" 2>&1)"; then
  pass "npm ci in fixtures/bikeshop"
else
  fail "npm ci in fixtures/bikeshop" "$out"
  finish
fi

# --------------------------------------------------------- exporter output
for flavour in drizzle sqlite/drizzle mariadb/drizzle; do
  if out="$(cd "$FX" && node --import tsx "$EXPORTER" "$flavour/schema.ts" 2>&1 > "$TMP/mapping.json")"; then
    if d="$(diff -u "$FX/$flavour/mapping.json" "$TMP/mapping.json")"; then
      pass "drizzle-mapping $flavour/schema.ts == $flavour/mapping.json"
    else
      fail "drizzle-mapping $flavour/schema.ts == $flavour/mapping.json" "$d"
    fi
  else
    fail "drizzle-mapping $flavour/schema.ts runs" "$out"
  fi
done

# Without --import tsx the exporter loads tsx from the app itself.
if out="$(cd "$FX" && node "$EXPORTER" drizzle/schema.ts 2>&1 > "$TMP/mapping.json")" \
  && d="$(diff -u "$FX/drizzle/mapping.json" "$TMP/mapping.json")"; then
  pass "drizzle-mapping without --import tsx gives the same mapping"
else
  fail "drizzle-mapping without --import tsx gives the same mapping" "${out:-}${d:-}"
fi

# An app of module type "commonjs" elsewhere on disk (tsx then loads the schema
# as CommonJS, with drizzle-orm's CommonJS build), both ways of loading TS.
APP="$TMP/cjs-app"
mkdir -p "$APP/src/db"
printf '{ "name": "cjs-app", "private": true, "type": "commonjs" }\n' > "$APP/package.json"
ln -s "$FX/node_modules" "$APP/node_modules"
cp "$FX/sqlite/drizzle/schema.ts" "$APP/src/db/schema.ts"
for loader in "--import tsx" ""; do
  # shellcheck disable=SC2086
  if out="$(cd "$APP" && node $loader "$EXPORTER" src/db/schema.ts 2>&1 > "$TMP/mapping.json")" \
    && d="$(diff -u "$FX/sqlite/drizzle/mapping.json" "$TMP/mapping.json")"; then
    pass "drizzle-mapping in a CommonJS app (${loader:-tsx fallback})"
  else
    fail "drizzle-mapping in a CommonJS app (${loader:-tsx fallback})" "${out:-}${d:-}"
  fi
done

# ------------------------------------------------------------- error paths
expect_exit2() { # name dir args...
  local name="$1" dir="$2"
  shift 2
  local code
  (cd "$dir" && node --import "$FX/node_modules/tsx/dist/loader.mjs" "$EXPORTER" "$@" > "$TMP/out" 2> "$TMP/err")
  code=$?
  local lines
  lines="$(wc -l < "$TMP/err")"
  if [ "$code" -eq 2 ] && [ "$lines" -eq 1 ] && [ ! -s "$TMP/out" ]; then
    pass "$name -> exit 2 ($(cat "$TMP/err"))"
  else
    fail "$name -> exit 2, one stderr line, no stdout" "exit $code, stderr:
$(cat "$TMP/err")
stdout: $(head -c 300 "$TMP/out")"
  fi
}
expect_exit2 "missing schema file" "$FX" drizzle/no-such-schema.ts
printf 'export const answer = 42;\nexport const nothing = null;\n' > "$TMP/no-tables.mjs"
expect_exit2 "schema without tables" "$FX" "$TMP/no-tables.mjs"
mkdir -p "$TMP/not-an-app"
cp "$FX/drizzle/schema.ts" "$TMP/not-an-app/schema.ts"
expect_exit2 "no drizzle-orm in the working directory" "$TMP/not-an-app" schema.ts
expect_exit2 "no arguments" "$FX"
expect_exit2 "two arguments" "$FX" drizzle/schema.ts sqlite/drizzle/schema.ts

# ---------------------------------------------- drizzle-kit snapshots in sync
for spec in "drizzle.config.ts:drizzle" "sqlite/drizzle.config.ts:sqlite/drizzle" "mariadb/drizzle.config.ts:mariadb/drizzle"; do
  config="${spec%%:*}" out_dir="${spec##*:}"
  scratch="$TMP/kit-$(echo "$out_dir" | tr / _)"
  mkdir -p "$scratch"
  cp -R "$FX/$out_dir/meta" "$scratch/meta"
  cp "$FX/$out_dir"/[0-9][0-9][0-9][0-9]_*.sql "$scratch/"
  # (drizzle-kit takes `out` relative to the working directory, even if absolute)
  if out="$(cd "$FX" && DRIZZLE_OUT="$(realpath --relative-to="$FX" "$scratch")" npx --no-install drizzle-kit generate --config "$config" 2>&1)" \
    && grep -q 'No schema changes' <<<"$out" \
    && [ "$(ls "$scratch"/*.sql | wc -l)" -eq 2 ]; then
    pass "drizzle-kit snapshots of $out_dir match schema.ts"
  else
    fail "drizzle-kit snapshots of $out_dir match schema.ts" "$out"
  fi
done

finish
