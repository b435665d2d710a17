#!/usr/bin/env bash
# Re-captures queries/<repository>/<operation>.toml (PostgreSQL),
# queries/sqlite/<repository>/<operation>.toml and (CAPTURE_DIALECTS=mysql)
# queries/mariadb/<repository>/<operation>.toml from the real ORMs: seeds a
# scratch PostgreSQL database and a SQLite file with `parity seed`,
# generates each flavour's Prisma 7 client offline into a temporary folder,
# and runs scripts/capture-queries.mjs, which records the SQL Prisma and
# Drizzle send for each operation in scripts/capture/operations.ts.
#
# Needs Node 20 and `npm ci` in fixtures/bikeshop. The Rust tests do not:
# the captured files are committed.
#
#   scripts/capture-queries.sh                 # all operations, both databases
#   scripts/capture-queries.sh --only NAME     # one operation
#   CAPTURE_DIALECTS=sqlite scripts/capture-queries.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

base=${PARITY_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432}
base=${base%/}
db="parity_capture_$$"
rows=${CAPTURE_ROWS:-2000}
parity=${PARITY_BIN:-}
if [ -z "$parity" ]; then
  cargo build -q
  parity=$root/target/debug/parity
fi

work=$(mktemp -d)
mydrop=
cleanup() {
  psql "$base/postgres" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  if [ -n "$mydrop" ]; then
    h=${mydrop#mysql://}; h=${h%%/*}; u=${h%@*}; hp=${h#*@}
    mariadb --protocol=tcp -h "${hp%%:*}" -P "${hp##*:}" -u "${u%%:*}" -e "DROP DATABASE IF EXISTS \`$db\`" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# `prisma generate` runs offline once PRISMA_SCHEMA_ENGINE_BINARY names any
# file (../shared/orm-semantics.md). Each client is generated next to a
# node_modules link so its imports resolve.
ln -s "$root/fixtures/bikeshop/node_modules" "$work/node_modules"
touch "$work/no-engine"
generate() { # flavour-dir schema
  mkdir -p "$work/$1/prisma"
  ln -s "$root/fixtures/bikeshop/node_modules" "$work/$1/node_modules"
  cp "$2" "$work/$1/prisma/schema.prisma"
  (cd "$work/$1" && PRISMA_SCHEMA_ENGINE_BINARY="$work/no-engine" PRISMA_HIDE_UPDATE_MESSAGE=1 \
    CHECKPOINT_DISABLE=1 node_modules/.bin/prisma generate --schema prisma/schema.prisma >/dev/null)
}

for dialect in ${CAPTURE_DIALECTS:-postgresql sqlite}; do
  case $dialect in
    postgresql)
      url="$base/$db"
      schema=fixtures/bikeshop/prisma/schema.prisma ;;
    sqlite)
      url="sqlite:$work/shop.db"
      schema=fixtures/bikeshop/sqlite/prisma/schema.prisma ;;
    mysql)
      mybase=${PARITY_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306}
      mybase=${mybase%/}
      myhost=${mybase#*://}; myhost=${myhost%%/*}
      url="mysql://$myhost/$db"
      mydrop="mysql://$myhost/$db"
      schema=fixtures/bikeshop/mariadb/prisma/schema.prisma ;;
    *) echo "capture: unknown dialect $dialect" >&2; exit 2 ;;
  esac
  echo "capture: $dialect: seeding ($rows transactions)" >&2
  "$parity" seed --url "$url" --rows "$rows" >/dev/null 2>"$work/seed.log" || { cat "$work/seed.log" >&2; exit 1; }
  generate "$dialect" "$schema"
  TZ=UTC "$work/node_modules/.bin/tsx" scripts/capture-queries.mjs \
    --url "$url" --prisma-client "$work/$dialect/generated/prisma/client.ts" --out queries "$@"
done
