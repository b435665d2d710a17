#!/usr/bin/env bash
# The MariaDB oracle run: the real ORMs decide which values of the probe
# table read differently through Prisma 7 (@prisma/adapter-mariadb) and
# drizzle-orm mysql-core (mysql2); `parity check` of the same database through
# the same two mappings must name exactly those (row, column) pairs: 0 false
# positives, 0 misses. Exit 0 when it does, 1 when not, 2 when it cannot run.
#
# Needs Node 20 and `npm ci` in fixtures/bikeshop (scripts/test-node.sh), and
# a MariaDB server: $PARITY_TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306).
#   scripts/oracle-mariadb/run.sh [--keep-json FILE]
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
here=$root/scripts/oracle-mariadb

base=${PARITY_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306}
hostpart=${base#mysql://}
hostpart=${hostpart#mariadb://}
hostpart=${hostpart%%/*}
db="parity_oracle_$$"
keep=
[ "${1:-}" = --keep-json ] && keep=$2
parity=${PARITY_BIN:-}
if [ -z "$parity" ]; then
  cargo build -q
  parity=$root/target/debug/parity
fi
if [ ! -d fixtures/bikeshop/node_modules/@prisma/adapter-mariadb ]; then
  echo "oracle-mariadb: run scripts/test-node.sh first (npm ci in fixtures/bikeshop)" >&2
  exit 2
fi
userhost=${hostpart%%/*}
user=${userhost%@*}; user=${user%%:*}
hp=${userhost#*@}
host=${hp%%:*}; port=${hp##*:}; [ "$port" = "$hp" ] && port=3306
sqlc() { mariadb --protocol=tcp -h "$host" -P "$port" -u "$user" "$@"; }

work=$(mktemp -d)
cleanup() {
  sqlc -e "DROP DATABASE IF EXISTS \`$db\`" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

sqlc -e "CREATE DATABASE \`$db\`"
sqlc "$db" < "$here/setup.sql"
url="mysql://$userhost/$db"

# Prisma 7 client, generated offline (as scripts/capture-queries.sh does).
mkdir -p "$work/client/prisma"
ln -s "$root/fixtures/bikeshop/node_modules" "$work/client/node_modules"
ln -s "$root/fixtures/bikeshop/node_modules" "$work/node_modules"
cp "$here/probe.prisma" "$work/client/prisma/schema.prisma"
touch "$work/no-engine"
(cd "$work/client" && PRISMA_SCHEMA_ENGINE_BINARY="$work/no-engine" PRISMA_HIDE_UPDATE_MESSAGE=1 \
  CHECKPOINT_DISABLE=1 node_modules/.bin/prisma generate --schema prisma/schema.prisma >/dev/null)

# Drizzle's read modes, from the probe schema by the shipped exporter.
# The schema is copied next to a node_modules link so drizzle-orm resolves.
cp "$here/probe-schema.ts" "$work/probe-schema.ts"
(cd fixtures/bikeshop && node --import tsx "$root/scripts/drizzle-mapping.mjs" "$work/probe-schema.ts") > "$work/mapping.json"

TZ=UTC fixtures/bikeshop/node_modules/.bin/tsx "$here/probe.mjs" --url "$url" \
  --prisma-client "$work/client/generated/prisma/client.ts" --schema "$work/probe-schema.ts" > "$work/oracle.json"
[ -n "$keep" ] && cp "$work/oracle.json" "$keep"
[ -n "${ORACLE_ONLY:-}" ] && exit 0

cat > "$work/parity.toml" <<TOML
[source]
name = "prisma"
orm = "prisma"
url = "\${ORACLE_URL}"
mapping = "$here/probe.prisma"

[target]
name = "drizzle"
orm = "drizzle"
url = "\${ORACLE_URL}"
mapping = "$work/mapping.json"
TOML
set +e
ORACLE_URL=$url "$parity" --quiet --config "$work/parity.toml" --out "$work/out" check ${ORACLE_DEBUG:+--show-values} >/dev/null 2>"$work/check.err"
code=$?
set -e
if [ $code -gt 1 ]; then
  echo "oracle-mariadb: parity check failed (exit $code):" >&2
  cat "$work/check.err" >&2
  exit 2
fi
node -e '
const fs = require("fs");
const oracle = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const want = new Set(oracle.differences.map((d) => `${d.id}:${d.column}`));
const lines = fs.readFileSync(process.argv[2], "utf8").trim().split("\n").slice(1);
const got = new Set();
for (const line of lines) {
  // source_table,target_table,key,kind,columns[,source_values,target_values]
  const m = /^[^,]*,[^,]*,"?\{""id"":(\d+)\}"?,(?:different|unreadable_in_source|unreadable_in_target),("[^"]*"|[^,]*)(,|$)/.exec(line);
  if (!m) { console.error("unexpected differences.csv line: " + line); process.exit(2); }
  for (const c of m[2].replace(/"/g, "").split(";")) got.add(`${m[1]}:${c}`);
}
const fp = [...got].filter((k) => !want.has(k)).sort();
const miss = [...want].filter((k) => !got.has(k)).sort();
const obs = new Map(oracle.observations.map((o) => [`${o.id}:${o.column}`, o]));
const show = (k) => { const o = obs.get(k); return `  ${k}: prisma ${o?.prisma} | drizzle ${o?.drizzle}`; };
console.log(`oracle-mariadb: ${oracle.observations.length} values read through both ORMs, ${want.size} differ; parity found ${got.size}: ${fp.length} false positives, ${miss.length} misses`);
if (fp.length) console.log("false positives:\n" + fp.map(show).join("\n"));
if (miss.length) console.log("misses:\n" + miss.map(show).join("\n"));
if (process.env.ORACLE_DEBUG) console.log(fs.readFileSync(process.argv[2], "utf8"));
process.exit(fp.length || miss.length ? 1 : 0);
' "$work/oracle.json" "$work/out/differences.csv"
