#!/usr/bin/env bash
# Renders report.html in a real headless Chromium (Debian's package) and
# checks it: no console messages (the page has no scripts, so any console
# output is an error), no network requests, the verdict banner first on the
# page (every repository READY / NOT READY with its flag, the global flag),
# the schema findings section with value-risk marks, the timing table and
# one SVG latency chart per operation in the rendered DOM, and screenshots
# (the first screen, and the whole page).
#
#   scripts/test-html.sh                 # produces a report with a real `parity run` (the gate)
#   scripts/test-html.sh path/report.html
#
# The last line is "N passed, N failed"; exits 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
pass=0
fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
  echo "test-html: installing chromium" >&2
  as_root apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null 2>&1 || true
  browser=$(command -v chromium || command -v chromium-browser || true)
fi
if [ -z "$browser" ]; then
  bad "no chromium (apt-get install -y chromium)"
  finish
fi

tmp=$(mktemp -d)
db=""
base=${PARITY_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432}
base=${base%/}
cleanup() {
  [ -n "$db" ] && psql "$base/postgres" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

report=${1:-}
if [ -z "$report" ]; then
  parity=${PARITY_BIN:-}
  if [ -z "$parity" ]; then
    cargo build -q || { bad "cargo build"; finish; }
    parity=$root/target/debug/parity
  fi
  db="parity_html_$$"
  if "$parity" seed --url "$base/$db" --rows 500 >/dev/null 2>"$tmp/seed.err"; then
    ok "seeded $db"
  else
    bad "seed: $(tail -n 3 "$tmp/seed.err")"
    finish
  fi
  # The fixture's config, with writes allowed on both sides (always rolled back).
  sed -e '/^allow_writes *=/d' -e 's/^\[source\]$/[source]\nallow_writes = true/' \
      -e 's/^\[target\]$/[target]\nallow_writes = true/' \
      -e "s|\"\.\./\.\./queries/|\"$root/queries/|" \
      -e "s|^mapping = \"prisma/|mapping = \"$root/fixtures/bikeshop/prisma/|" \
      -e "s|^migrations = \"prisma/|migrations = \"$root/fixtures/bikeshop/prisma/|" \
      -e "s|\"drizzle/|\"$root/fixtures/bikeshop/drizzle/|g" \
      -e "s|^migrations = \"drizzle\"|migrations = \"$root/fixtures/bikeshop/drizzle\"|" \
      fixtures/bikeshop/parity.toml >"$tmp/parity.toml"
  DATABASE_URL="$base/$db" "$parity" --config "$tmp/parity.toml" --out "$tmp/out" --quiet \
    run --iterations 30 --warmup 3 >"$tmp/timing.out" 2>"$tmp/timing.err"
  code=$?
  if [ "$code" -le 1 ]; then ok "parity run ran (exit $code)"; else bad "parity run exit $code: $(tail -n 3 "$tmp/timing.err")"; finish; fi
  report=$tmp/out/report.html
fi
[ -s "$report" ] && ok "report.html exists" || { bad "no report at $report"; finish; }
report=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")

flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
  --disable-sync --no-first-run --disable-default-apps --mute-audio --enable-logging=stderr --v=0)

timeout 60 "$browser" "${flags[@]}" --user-data-dir="$tmp/profile1" --dump-dom "file://$report" \
  >"$tmp/dom.html" 2>"$tmp/console.log"
[ -s "$tmp/dom.html" ] && ok "chromium rendered the DOM" || bad "chromium rendered nothing"

if grep -E 'CONSOLE|Uncaught|console\.(error|warn)' "$tmp/console.log" >"$tmp/console.hits"; then
  bad "console messages: $(head -n 3 "$tmp/console.hits")"
else
  ok "no console messages"
fi
if grep -Ei 'net::ERR|Failed to load resource' "$tmp/console.log" >/dev/null; then
  bad "network errors: $(grep -Ei 'net::ERR|Failed to load' "$tmp/console.log" | head -n 2)"
else
  ok "no failed resource loads"
fi
if grep -Eo '(src|href)="https?://[^"]*"|url\(https?:' "$report" >/dev/null; then
  bad "the page references network assets"
else
  ok "no network assets referenced"
fi

ops=$(grep -c '<section class="op"' "$tmp/dom.html" || true)
charts=$(grep -o '<svg class="hist"' "$tmp/dom.html" | wc -l)
bars=$(grep -o '<rect x=' "$tmp/dom.html" | wc -l)
grep -q '<table id="timing">' "$tmp/dom.html" && ok "timing table in the DOM" || bad "no timing table in the DOM"
if [ "$ops" -gt 0 ] && [ "$charts" -ge 1 ] && [ "$bars" -gt "$charts" ]; then
  ok "$charts SVG latency charts for $ops operations ($bars bars)"
else
  bad "expected an SVG chart per operation: $ops operations, $charts charts, $bars bars"
fi

# The verdict banner is the first thing in the body, before any section.
first=$(tr -d '\n' <"$tmp/dom.html" | sed -e 's/.*<body[^>]*>//' | grep -o '<[a-z0-9]*[^>]*>' | head -n 1)
case $first in
  '<header id="verdict"'*) ok "the verdict banner comes first ($first)" ;;
  *) bad "the first element in the body is not the verdict banner: $first" ;;
esac
banner=$(tr -d '\n' <"$tmp/dom.html" | sed -e 's/.*<header id="verdict"//' -e 's/<\/header>.*//')
repos=$(grep -o '<li class="repository"' <<<"$banner" | wc -l)
verdicts=$(grep -Eo '>(NOT READY|READY|DATA OK)<' <<<"$banner" | wc -l)
nflags=$(grep -o '<code class="flag">' <<<"$banner" | wc -l)
if [ "$repos" -ge 1 ] && [ "$verdicts" -ge "$repos" ] && [ "$nflags" -ge 1 ]; then
  ok "banner: $repos repositories, each with a verdict ($verdicts) and flags ($nflags)"
else
  bad "banner: $repos repositories, $verdicts verdicts, $nflags flags"
fi
if [ -z "${1:-}" ]; then
  grep -q 'class="global"' <<<"$banner" && grep -q 'USE_DRIZZLE' <<<"$banner" \
    && ok "banner: the global flag USE_DRIZZLE" || bad "banner: no global flag line"
fi
sections=$(grep -o '<h2[^>]*>[^<]*' "$tmp/dom.html" | sed 's/<h2[^>]*>//' | tr '\n' '|')
grep -q '<h2 id="schema">Schema findings</h2>' "$tmp/dom.html" && ok "schema findings section ($sections)" \
  || bad "no schema findings section ($sections)"
risks=$(grep -o 'class="risk risk-value"' "$tmp/dom.html" | wc -l)
rows=$(grep -o '<tr class="value-risk">' "$tmp/dom.html" | wc -l)
if [ "$risks" -ge 1 ] && [ "$rows" -ge 1 ]; then ok "value-risk marks: $risks marks, $rows highlighted rows"; else bad "no value-risk marks ($risks, $rows)"; fi

first_screen=/tmp/parity-report-first-screen-$$.png
timeout 60 "$browser" "${flags[@]}" --user-data-dir="$tmp/profile3" --hide-scrollbars \
  --window-size=1280,800 --screenshot="$first_screen" "file://$report" >/dev/null 2>&1
if [ -s "$first_screen" ]; then ok "first-screen screenshot $first_screen"; else bad "no first-screen screenshot"; fi

shot=/tmp/parity-report-$$.png
timeout 60 "$browser" "${flags[@]}" --user-data-dir="$tmp/profile2" --hide-scrollbars \
  --window-size=1280,3000 --screenshot="$shot" "file://$report" >/dev/null 2>&1
if [ -s "$shot" ]; then ok "screenshot $shot ($(wc -c <"$shot") bytes)"; else bad "no screenshot"; fi
finish
