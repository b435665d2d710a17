#!/usr/bin/env bash
# The real-ORM oracle step (issue #9 §2, #17): parity against the real Prisma 7
# client and drizzle-orm on the PostgreSQL bike shop, two larger public schemas
# (fixtures/langfuse, fixtures/documenso) and the SQLite bike shop. See tests/oracle.rs and
# scripts/oracle/README.md.
#
#   scripts/test-oracle.sh [--no-install]
#
# Needs fixtures/bikeshop/node_modules (scripts/test-node.sh installs it) and
# installs scripts/oracle/node_modules (Prisma's schema parser) with npm ci.
# Exits non-zero on any failure; the last line is "N passed, N failed".
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export NODE_NO_WARNINGS=1 CHECKPOINT_DISABLE=1
export PARITY_TEST_PG_URL="${PARITY_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432}"
PASSED=0
FAILED=0

if [ "${1:-}" != "--no-install" ] \
  && ! { [ -d scripts/oracle/node_modules ] && [ scripts/oracle/node_modules/.package-lock.json -nt scripts/oracle/package-lock.json ]; }; then
  if out="$(cd scripts/oracle && npm ci --prefer-offline --no-audit --no-fund --loglevel=error 2>&1)"; then
    PASSED=$((PASSED + 1)); echo "ok   - npm ci in scripts/oracle"
  else
    FAILED=$((FAILED + 1)); echo "FAIL - npm ci in scripts/oracle"; echo "$out" | head -20
    echo "$PASSED passed, $FAILED failed"; exit 1
  fi
fi

# The referee's own comparison (values.mjs) on the cases the issues name.
if out="$(node scripts/oracle/selftest.mjs 2>&1)"; then
  PASSED=$((PASSED + 1)); echo "ok   - oracle selftest ($(echo "$out" | tail -1))"
else
  FAILED=$((FAILED + 1)); echo "FAIL - oracle selftest"; echo "$out" | sed 's/^/       /'
fi

for t in bikeshop_postgres_agrees_with_the_real_orms langfuse_postgres_agrees_with_the_real_orms \
  documenso_postgres_agrees_with_the_real_orms bikeshop_sqlite_agrees_with_the_real_orms \
  bikeshop_mariadb_agrees_with_the_real_orms; do
  start=$SECONDS
  if out="$(cargo test --locked --test tests "oracle::$t" -- --ignored --exact --nocapture 2>&1)"; then
    PASSED=$((PASSED + 1)); echo "ok   - oracle::$t ($((SECONDS - start)) s)"
  else
    FAILED=$((FAILED + 1)); echo "FAIL - oracle::$t ($((SECONDS - start)) s)"; echo "$out" | grep -v '^\s*Compiling\|^\s*Finished\|^\s*Running' | tail -80 | sed 's/^/       /'
  fi
  echo "       $(echo "$out" | grep -m1 '^oracle ' || true)"
done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
