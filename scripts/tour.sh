#!/usr/bin/env bash
# The README's curl tour, run for real: counter, JSON, a form POST with its CSRF token, the flash,
# /session, and the count surviving a server restart. Prints each request and what matters in the
# answer; exits non-zero if anything is not as the README says.
#
#   npm run tour                         # starts its own server (built) on TOUR_PORT, default 6543
#   TOUR_URL=http://host:port npm run tour   # tours a server that is already running (no restart step)
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${TOUR_PORT:-6543}"
URL="${TOUR_URL:-http://127.0.0.1:$PORT}"
WORK="$(mktemp -d)"
JAR="$WORK/jar"
SERVER_PID=""
trap 'stop_server; rm -rf "$WORK"' EXIT

bold () { printf '\n\033[1m%s\033[0m\n' "$*"; }
show () { printf '$ %s\n' "$*"; }
fail () { printf 'tour failed: %s\n' "$*" >&2; exit 1; }
expect () { # expect TEXT OUTPUT: OUTPUT must contain TEXT
  grep -qF -- "$1" <<<"$2" || fail "expected \"$1\" in: $2"
  printf '  ✓ %s\n' "$1"
}

up () { curl -sf -o /dev/null "$URL/healthz"; }

start_server () {
  [ -f dist/src/server.js ] || npm run build --silent
  PORT="$PORT" HOST=127.0.0.1 LOG_LEVEL=warn SESSION_SECRET="$SECRET" node dist/src/server.js &
  SERVER_PID=$!
  for _ in $(seq 1 50); do up && return 0; sleep 0.1; done
  fail "the server did not start on $URL"
}

stop_server () {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; fi
}

OWN_SERVER=no
if ! up; then
  [ -z "${TOUR_URL:-}" ] || fail "nothing answers at $TOUR_URL"
  SECRET="$(node -e 'console.log(require("node:crypto").randomBytes(48).toString("base64url"))')"
  bold "Starting the server on $URL (npm start does the same, plus a build)"
  start_server
  OWN_SERVER=yes
fi

bold "1. The counter lives in the session: a cookie jar plays the browser"
show "curl -s -c jar -b jar $URL/ | grep Count"
out="$(curl -s -c "$JAR" -b "$JAR" "$URL/" | grep Count)"; echo "$out"; expect '<p>Count: <strong>1</strong></p>' "$out"
show "curl -s -c jar -b jar $URL/howdy | grep Count"
out="$(curl -s -c "$JAR" -b "$JAR" "$URL/howdy" | grep Count)"; echo "$out"; expect '<p>Count: <strong>2</strong></p>' "$out"
show "curl -s $URL/ | grep Count     # no jar: a new browser"
out="$(curl -s "$URL/" | grep Count)"; echo "$out"; expect '<p>Count: <strong>1</strong></p>' "$out"

bold "2. The same routes answer JSON when asked"
show "curl -s -c jar -b jar -H 'Accept: application/json' $URL/"
out="$(curl -s -c "$JAR" -b "$JAR" -H 'Accept: application/json' "$URL/")"; echo "$out"
expect '"name":"Home View"' "$out"; expect '"counter":3' "$out"

bold "3. A form POST: take the CSRF token from the page, post with the jar, follow the 303"
show "TOKEN=\$(curl -s -c jar -b jar $URL/ | sed -n 's/.*name=\"_csrf\" value=\"\\([^\"]*\\)\".*/\\1/p' | head -n 1)"
TOKEN="$(curl -s -c "$JAR" -b "$JAR" "$URL/" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -n 1)"
[ -n "$TOKEN" ] || fail "no CSRF token on the home page"
echo "TOKEN=$TOKEN"
show "curl -s -c jar -b jar -o /dev/null -w '%{http_code} -> %{redirect_url}' --data-urlencode \"_csrf=\$TOKEN\" --data-urlencode 'item=apple' $URL/cart"
out="$(curl -s -c "$JAR" -b "$JAR" -o /dev/null -w '%{http_code} -> %{redirect_url}' --data-urlencode "_csrf=$TOKEN" --data-urlencode 'item=apple' "$URL/cart")"
echo "$out"; expect "303 -> $URL/" "$out"
show "curl -s -c jar -b jar -o /dev/null -w '%{http_code}' -d 'item=pear' $URL/cart     # no token"
out="$(curl -s -c "$JAR" -b "$JAR" -o /dev/null -w '%{http_code}' -d 'item=pear' "$URL/cart")"; echo "$out"; expect '403' "$out"

bold "4. The flash message crosses the redirect, once"
show "curl -s -b jar $URL/session     # read only: no count, the flash still waits"
out="$(curl -s -b "$JAR" "$URL/session")"; echo "$out"
expect '"cart":["apple"]' "$out"; expect '"pendingFlashes":1' "$out"
show "curl -s -c jar -b jar $URL/ | grep -E 'flash-|<li>apple|Count'"
out="$(curl -s -c "$JAR" -b "$JAR" "$URL/" | grep -E 'flash-|<li>apple|Count')"; echo "$out"
expect 'Added “apple” to your cart.' "$out"; expect '<li>apple</li>' "$out"; expect '<p>Count: <strong>5</strong></p>' "$out"
show "curl -s -c jar -b jar $URL/ | grep -c 'class=\"flash '     # shown once"
out="$(curl -s -c "$JAR" -b "$JAR" "$URL/" | grep -c 'class="flash ' || true)"; echo "$out"; expect '0' "$out"

if [ "$OWN_SERVER" = yes ]; then
  bold "5. Restart the server: the session is in the cookie, so the count goes on"
  show "(stop the server, start it again with the same SESSION_SECRET)"
  stop_server
  start_server
  show "curl -s -c jar -b jar $URL/ | grep Count"
  out="$(curl -s -c "$JAR" -b "$JAR" "$URL/" | grep Count)"; echo "$out"; expect '<p>Count: <strong>7</strong></p>' "$out"
else
  bold "5. (Skipped: restart the server yourself, then repeat step 1 with the same jar.)"
fi

bold "Tour complete: everything answered as the README says."
