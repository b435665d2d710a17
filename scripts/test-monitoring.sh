#!/usr/bin/env bash
# Checks scripts/monitoring/: installs promtool (Debian's `prometheus`
# package) when missing, then `promtool check rules` and `promtool test rules`
# on the alert rules, and checks that the Grafana dashboard is valid JSON and
# that every parity_* metric it or the rules use is one parity writes
# (src/report/prometheus.rs). The metrics files themselves are checked with
# `promtool check metrics` by the Rust tests (tests/observe.rs,
# tests/prometheus.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
if ! command -v promtool >/dev/null 2>&1; then
  echo "test-monitoring: installing promtool (Debian package prometheus)" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

promtool check rules scripts/monitoring/parity-alerts.yml
(cd scripts/monitoring && promtool test rules parity-alerts.test.yml)

node -e '
const fs = require("fs");
const d = JSON.parse(fs.readFileSync("scripts/monitoring/parity-dashboard.json", "utf8"));
if (!Array.isArray(d.panels) || d.panels.length === 0) throw new Error("dashboard has no panels");
for (const p of d.panels) for (const t of p.targets || []) if (!t.expr) throw new Error(`panel ${p.title}: a target without expr`);
'

known=$(grep -o '"parity_[a-z0-9_]*"' src/report/prometheus.rs | tr -d '"' | sort -u)
used=$(grep -oh 'parity_[a-z0-9_]*' scripts/monitoring/parity-dashboard.json scripts/monitoring/parity-alerts.yml \
  | grep -v '^parity_rollout$' | sort -u)
missing=$(comm -13 <(echo "$known") <(echo "$used"))
if [ -n "$missing" ]; then
  echo "test-monitoring: metrics used in scripts/monitoring/ that parity does not write: $missing" >&2
  exit 1
fi
echo "test-monitoring: rules, rule tests and dashboard ok ($(echo "$used" | wc -l) metrics used)" >&2
