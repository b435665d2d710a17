#!/usr/bin/env bash
# Re-captures queries/<repository>/<operation>.toml from the real ORMs:
# seeds a scratch PostgreSQL database with `parity seed`, generates the
# Prisma 7 client offline into a temporary folder, and runs
# scripts/capture-queries.mjs, which records the SQL Prisma and Drizzle put
# on the wire for each operation in scripts/capture/operations.ts.
#
# Needs Node 20 and `npm ci` in fixtures/bikeshop. The Rust tests do not:
# the captured files are committed.
#
#   scripts/capture-queries.sh                 # all operations into queries/
#   scripts/capture-queries.sh --only NAME     # one operation
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
cleanup() {
  psql "$base/postgres" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "capture: seeding $db ($rows transactions)" >&2
"$parity" seed --url "$base/$db" --rows "$rows" >/dev/null

# `prisma generate` runs offline once PRISMA_SCHEMA_ENGINE_BINARY names any
# file (../shared/orm-semantics.md). The client is generated next to a
# node_modules link so its imports resolve.
mkdir -p "$work/prisma"
ln -s "$root/fixtures/bikeshop/node_modules" "$work/node_modules"
cp fixtures/bikeshop/prisma/schema.prisma "$work/prisma/schema.prisma"
touch "$work/no-engine"
(cd "$work" && PRISMA_SCHEMA_ENGINE_BINARY="$work/no-engine" PRISMA_HIDE_UPDATE_MESSAGE=1 \
  CHECKPOINT_DISABLE=1 node_modules/.bin/prisma generate --schema prisma/schema.prisma >/dev/null)

TZ=UTC "$work/node_modules/.bin/tsx" scripts/capture-queries.mjs \
  --url "$base/$db" --prisma-client "$work/generated/prisma/client.ts" --out queries "$@"
