#!/usr/bin/env bash
# Regenerate fixtures/langfuse/ (the oracle's larger public schema) with the real tools:
#   1. prisma/schema.prisma = /work/shared/corpus/prisma/langfuse__langfuse.prisma (langfuse/langfuse
#      packages/shared/prisma/schema.prisma @ 62751446), normalised for Prisma 7 only: datasource URL
#      lines commented out, the removed preview feature "metrics" dropped from previewFeatures.
#   2. prisma/migration.sql = Prisma's schema engine (wasm) diff from empty (scripts/fixtures/prisma-ddl.mjs).
#   3. It is applied to a scratch database, and `drizzle-kit pull` writes drizzle/schema.ts + meta/.
#   4. What pull 0.31.11 gets wrong is fixed: array defaults written as `.default(["RAY"])` (invalid TS)
#      become the database's default as sql`...`. Nothing else is edited (read modes stay pull's).
#   5. drizzle/mapping.json = scripts/drizzle-mapping.mjs on drizzle/schema.ts.
# Needs PostgreSQL at PG (default postgres://postgres@127.0.0.1:5432) and fixtures/bikeshop/node_modules.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
FX="$ROOT/fixtures/langfuse"
NM="$ROOT/fixtures/bikeshop/node_modules"
PG="${PG:-postgres://postgres@127.0.0.1:5432}"
SRC="${1:-/work/shared/corpus/prisma/langfuse__langfuse.prisma}"
DB="parity_gen_langfuse_$$"
TMP="$(mktemp -d)"
trap 'psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$TMP"' EXIT
mkdir -p "$FX/prisma" "$FX/drizzle/meta"
sed -E -e 's#^(\s*)(url|directUrl|shadowDatabaseUrl)(\s*=.*)$#\1// \2\3#' \
  -e '/previewFeatures/s/, "metrics"//' "$SRC" > "$FX/prisma/schema.prisma"
(cd "$ROOT/fixtures/bikeshop" && node ../../scripts/fixtures/prisma-ddl.mjs postgresql "$FX/prisma/schema.prisma") > "$FX/prisma/migration.sql"
psql "$PG/postgres" -qc "CREATE DATABASE $DB"
psql "$PG/$DB" -q -v ON_ERROR_STOP=1 -f "$FX/prisma/migration.sql" 2>/dev/null
psql "$PG/$DB" -At -c "SELECT table_name||'.'||column_name||'|'||column_default FROM information_schema.columns
  WHERE table_schema='public' AND data_type='ARRAY' AND column_default IS NOT NULL" > "$TMP/arrdefs.txt"
cat > "$ROOT/fixtures/bikeshop/.oracle-pull.config.ts" <<EOF
import { defineConfig } from 'drizzle-kit';
export default defineConfig({ dialect: 'postgresql', out: '$(realpath --relative-to="$ROOT/fixtures/bikeshop" "$TMP")/pull', dbCredentials: { url: '$PG/$DB' } });
EOF
(cd "$ROOT/fixtures/bikeshop" && DRIZZLE_KIT_NO_TELEMETRY=1 npx --no-install drizzle-kit pull --config .oracle-pull.config.ts >/dev/null)
rm -f "$ROOT/fixtures/bikeshop/.oracle-pull.config.ts"
node - "$TMP/pull/schema.ts" "$TMP/arrdefs.txt" <<'EOF'
const fs = require('fs');
const [file, defsFile] = process.argv.slice(2);
const defs = new Map(fs.readFileSync(defsFile, 'utf8').trim().split('\n').map((l) => l.split('|')));
let table = null;
const out = fs.readFileSync(file, 'utf8').split('\n').map((line) => {
  const t = /pgTable\("([^"]+)"/.exec(line);
  if (t) table = t[1];
  if (!/\.default\(\[.*RAY.*\]\)/.test(line)) return line;
  const m = /^\s*(\w+): \w+\((?:"([^"]+)")?/.exec(line);
  const d = defs.get(`${table}.${m[2] ?? m[1]}`);
  if (!d) throw new Error(`no database default for ${table}.${m[2] ?? m[1]}`);
  return line.replace(/\.default\(\[.*\]\)/, `.default(sql\`${d}\`)`);
});
fs.writeFileSync(file, out.join('\n'));
EOF
cp "$TMP/pull/schema.ts" "$FX/drizzle/schema.ts"
cp "$TMP/pull/meta/0000_snapshot.json" "$TMP/pull/meta/_journal.json" "$FX/drizzle/meta/"
mkdir -p "$TMP/app" && ln -s "$NM" "$TMP/app/node_modules" && echo '{"type":"module","private":true}' > "$TMP/app/package.json"
cp "$FX/drizzle/schema.ts" "$TMP/app/schema.ts"
(cd "$TMP/app" && node --import tsx "$ROOT/scripts/drizzle-mapping.mjs" schema.ts) > "$FX/drizzle/mapping.json"
echo "fixtures/langfuse regenerated" >&2
