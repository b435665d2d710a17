#!/usr/bin/env bash
# The single test command: starts (or installs) the databases the tests use,
# then runs the Rust tests, the Node exporter test, rustfmt and clippy.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/services.sh

export PARITY_TEST_PG_URL="${PARITY_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432}"
export PARITY_TEST_MYSQL_URL="${PARITY_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306}"
# The schema conformance corpus (../shared/corpus beside the checkout, or the
# workplace's /work/shared/corpus when the checkout lives elsewhere).
if [ -z "${PARITY_CORPUS:-}" ]; then
  for c in ../shared/corpus /work/shared/corpus; do
    if [ -d "$c/prisma" ]; then export PARITY_CORPUS="$(cd "$c" && pwd)"; break; fi
  done
fi

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check

echo "== cargo clippy" >&2
cargo clippy --locked --all-targets -- -D warnings

echo "== module graph: no cycle, no upward import (scripts/layers.py)" >&2
python3 scripts/layers.py

echo "== monitoring: alert rules, dashboard, promtool" >&2
bash scripts/test-monitoring.sh
export PARITY_REQUIRE_PROMTOOL=1

echo "== cargo test" >&2
cargo test --locked

if [ -f scripts/test-node.sh ]; then
  echo "== node: drizzle exporter" >&2
  bash scripts/test-node.sh
fi

if [ -f scripts/test-oracle.sh ]; then
  echo "== real-ORM oracle (Prisma 7 + drizzle-orm vs parity)" >&2
  bash scripts/test-oracle.sh
fi

if [ -f scripts/test-html.sh ]; then
  echo "== html report in headless Chromium" >&2
  bash scripts/test-html.sh
fi

if [ -f scripts/oracle-mariadb/run.sh ]; then
  echo "== MariaDB oracle: the real ORMs against parity's MySQL rules" >&2
  bash scripts/oracle-mariadb/run.sh
fi
