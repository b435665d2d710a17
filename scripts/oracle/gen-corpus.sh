#!/usr/bin/env bash
# Regenerate a fixture of the oracle's larger public schemas with the real tools:
#   scripts/oracle/gen-corpus.sh langfuse    (corpus file langfuse__langfuse.prisma)
#   scripts/oracle/gen-corpus.sh documenso   (corpus file documenso__documenso.prisma)
#   1. fixtures/<name>/prisma/schema.prisma = the corpus schema (../shared/corpus/prisma; origin and commit
#      in its SOURCES.tsv), normalised for Prisma 7 only: datasource URL lines commented out, the removed
#      preview feature "metrics" dropped from previewFeatures.
#   2. prisma/migration.sql = Prisma's schema engine (wasm) diff from empty (scripts/fixtures/prisma-ddl.mjs).
#   3. It is applied to a scratch database, and `drizzle-kit pull` writes drizzle/schema.ts + meta/.
#   4. What pull 0.31.11 gets wrong is fixed: array defaults written as `.default(["RAY"])` (invalid TS)
#      become the database's default as sql`...`. Nothing else is edited (read modes stay pull's).
#   5. drizzle/mapping.json = scripts/drizzle-mapping.mjs on drizzle/schema.ts.
# Needs PostgreSQL at PG (default postgres://postgres@127.0.0.1:5432) and fixtures/bikeshop/node_modules.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
NAME="${1:?usage: gen-corpus.sh <langfuse|documenso>}"
FX="$ROOT/fixtures/$NAME"
NM="$ROOT/fixtures/bikeshop/node_modules"
PG="${PG:-postgres://postgres@127.0.0.1:5432}"
CORPUS="${CORPUS:-/work/shared/corpus/prisma}"
SRC="$(ls "$CORPUS"/*__"$NAME".prisma)"
DB="parity_gen_${NAME}_$$"
TMP="$(mktemp -d)"
trap 'psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$TMP"' EXIT
mkdir -p "$FX/prisma" "$FX/drizzle/meta"
sed -E -e 's#^(\s*)(url|directUrl|shadowDatabaseUrl)(\s*=.*)$#\1// \2\3#' \
  -e '/previewFeatures/s/, "metrics"//' "$SRC" > "$FX/prisma/schema.prisma"
(cd "$ROOT/fixtures/bikeshop" && node ../../scripts/fixtures/prisma-ddl.mjs postgresql "$FX/prisma/schema.prisma") > "$FX/prisma/migration.sql"
psql "$PG/postgres" -qc "CREATE DATABASE $DB"
# documenso's indexes use gin_trgm_ops: its app creates pg_trgm in a hand-written migration.
if grep -q gin_trgm_ops "$FX/prisma/migration.sql"; then psql "$PG/$DB" -qc 'CREATE EXTENSION IF NOT EXISTS pg_trgm'; fi
psql "$PG/$DB" -q -v ON_ERROR_STOP=1 -f "$FX/prisma/migration.sql" 2>/dev/null
psql "$PG/$DB" -At -c "SELECT table_name||'.'||column_name||'|'||column_default FROM information_schema.columns
  WHERE table_schema='public' AND data_type='ARRAY' AND column_default IS NOT NULL" > "$TMP/arrdefs.txt"
psql "$PG/$DB" -At -c "SELECT table_name||'.'||column_name||'|'||udt_name FROM information_schema.columns
  WHERE table_schema='public'" > "$TMP/udts.txt"
cat > "$ROOT/fixtures/bikeshop/.oracle-pull.config.ts" <<EOF
import { defineConfig } from 'drizzle-kit';
export default defineConfig({ dialect: 'postgresql', out: '$(realpath --relative-to="$ROOT/fixtures/bikeshop" "$TMP")/pull', dbCredentials: { url: '$PG/$DB' } });
EOF
(cd "$ROOT/fixtures/bikeshop" && DRIZZLE_KIT_NO_TELEMETRY=1 npx --no-install drizzle-kit pull --config .oracle-pull.config.ts >/dev/null)
rm -f "$ROOT/fixtures/bikeshop/.oracle-pull.config.ts"
node - "$TMP/pull/schema.ts" "$TMP/arrdefs.txt" "$TMP/udts.txt" <<'EOF'
// Pull 0.31.11's mistakes, fixed from the database's own catalog:
//  - array defaults `.default(["RAY"])` (invalid TS) -> the database default as sql`...`;
//  - an empty-string default `.default(')` (invalid TS) -> `.default('')`;
//  - `unknown("col")` for bytea ("failed to parse database type 'bytea'") -> a bytea customType
//    (drizzle-orm 0.45 pg-core has no bytea column; customType is how apps declare it);
//  - `unknown("col").array()` for an enum array -> that pgEnum's `.array()`;
//  - two columns whose property names collide (`createdAt` and `created_at` -> `createdAt` twice,
//    the second silently wins) -> the later one keeps its column name as its property.
const fs = require('fs');
const [file, defsFile, udtFile] = process.argv.slice(2);
const lines2map = (f) => new Map(fs.readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split('|')));
const defs = lines2map(defsFile);
const udts = lines2map(udtFile);
let text = fs.readFileSync(file, 'utf8');
const enumExport = new Map([...text.matchAll(/export const (\w+) = pgEnum\("([^"]+)"/g)].map((m) => [m[2], m[1]]));
let table = null;
let usesBytea = false;
let props = new Set();
const out = text.split('\n').map((line) => {
  const t = /pgTable\("([^"]+)"/.exec(line);
  if (t) {
    table = t[1];
    props = new Set();
  }
  const m = /^\s*(\w+): \w+\((?:"([^"]+)")?/.exec(line);
  const col = m && `${table}.${m[2] ?? m[1]}`;
  if (m && props.has(m[1])) {
    if (!m[2] || props.has(m[2])) throw new Error(`property ${m[1]} repeats in ${table}: fix it here`);
    line = line.replace(`${m[1]}:`, `${m[2]}:`);
    props.add(m[2]);
  } else if (m) {
    props.add(m[1]);
  }
  if (/\.default\(\[.*RAY.*\]\)/.test(line)) {
    const d = defs.get(col);
    if (!d) throw new Error(`no database default for ${col}`);
    line = line.replace(/\.default\(\[.*\]\)/, `.default(sql\`${d}\`)`);
  }
  line = line.replace(/\.default\('\)/, ".default('')");
  if (/: unknown\(/.test(line)) {
    const udt = udts.get(col);
    if (udt === 'bytea') {
      usesBytea = true;
      line = line.replace(/unknown\(/, 'bytea(');
    } else if (udt?.startsWith('_') && enumExport.has(udt.slice(1))) {
      line = line.replace(/unknown\(/, `${enumExport.get(udt.slice(1))}(`);
    } else {
      throw new Error(`pull wrote unknown() for ${col} (${udt}): fix it here`);
    }
  }
  return line;
});
text = out.join('\n');
if (usesBytea) {
  text = text.replace(/^(import \{[^}]*)\} from "drizzle-orm\/pg-core"/m, '$1, customType } from "drizzle-orm/pg-core"');
  text = text.replace(/(import \{ sql \} from "drizzle-orm"\n)/, "$1\n// bytea (pull: \"failed to parse database type 'bytea'\"): Buffer, as node-postgres hands it.\nconst bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });\n");
}
fs.writeFileSync(file, text);
EOF
cp "$TMP/pull/schema.ts" "$FX/drizzle/schema.ts"
cp "$TMP/pull/meta/0000_snapshot.json" "$FX/drizzle/meta/"
# The journal's wall-clock `when`, fixed so a rerun gives the same bytes.
sed -E -e 's/"when": [0-9]+/"when": 1796194993271/' -e 's/"tag": "0000_[a-z_]+"/"tag": "0000_pull"/' "$TMP/pull/meta/_journal.json" > "$FX/drizzle/meta/_journal.json"
mkdir -p "$TMP/app" && ln -s "$NM" "$TMP/app/node_modules" && echo '{"type":"module","private":true}' > "$TMP/app/package.json"
cp "$FX/drizzle/schema.ts" "$TMP/app/schema.ts"
(cd "$TMP/app" && node --import tsx "$ROOT/scripts/drizzle-mapping.mjs" schema.ts) > "$FX/drizzle/mapping.json"
echo "fixtures/$NAME regenerated from $SRC" >&2
