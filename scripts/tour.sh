#!/usr/bin/env bash
# The README's curl tour, run for real: the counter, JSON, a form POST with its CSRF token, the
# flash, /session, and the count surviving a server restart. Each command is printed as the README
# writes it, run, and its whole output checked; exits non-zero at the first answer that differs.
#
#   npm run tour                              # its own server (built) on a free port
#   TOUR_PORT=6543 npm run tour               # its own server on that port (refused if taken)
#   TOUR_URL=http://127.0.0.1:6543 npm run tour   # a server already running (no restart step)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
WORK="$(mktemp -d)"
SERVER_PID=""
trap 'stop_server; rm -rf "$WORK"' EXIT

bold () { printf '\n\033[1m%s\033[0m\n' "$*"; }
fail () { printf 'tour failed: %s\n' "$*" >&2; exit 1; }

# check COMMAND EXPECTED: prints COMMAND, runs it in the tour's folder (so its cookie `jar` is kept
# there, not in the work tree) and compares the whole output with EXPECTED, a bash pattern in which
# `*` stands for what changes from run to run (a time, a size).
check () {
  printf '$ %s\n' "$1"
  local out
  out="$(cd "$WORK" && eval "$1")" || fail "the command failed: $1"
  printf '%s\n' "$out"
  matches "$out" "$2" || fail "expected: $2"
  printf '  ✓ as the README says\n'
}

# matches TEXT EXPECTED: TEXT is EXPECTED, where each `*` in EXPECTED stands for any text and
# everything else is literal (quoted piece by piece, so `[`, `?` and `\` mean themselves).
matches () {
  local pattern="" rest="$2"
  while [[ "$rest" == *'*'* ]]; do
    pattern+="$(printf '%q' "${rest%%\**}")*"
    rest="${rest#*\*}"
  done
  pattern+="$(printf '%q' "$rest")"
  eval "[[ \"\$1\" == $pattern ]]"
}

up () { curl -sf -o /dev/null "$URL/healthz"; }
port_free () { node -e 'require("node:net").createServer().once("error", () => process.exit(1)).listen(Number(process.argv[1]), "127.0.0.1", function () { this.close() })' "$1"; }

start_server () {
  [ -f "$ROOT/dist/src/server.js" ] || npm run build --silent
  PORT="$PORT" HOST=127.0.0.1 LOG_LEVEL=warn SESSION_SECRET="$SECRET" node "$ROOT/dist/src/server.js" &
  SERVER_PID=$!
  for _ in $(seq 1 50); do up && return 0; sleep 0.1; done
  fail "the server did not start on $URL"
}

stop_server () {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; fi
}

if [ -n "${TOUR_URL:-}" ]; then
  URL="${TOUR_URL%/}"
  up || fail "nothing answers at $URL/healthz (start the app, or leave TOUR_URL unset and the tour starts its own)"
  OWN_SERVER=no
  bold "Touring the server at $URL (TOUR_URL): a fresh cookie jar, no restart step"
else
  if [ -n "${TOUR_PORT:-}" ]; then
    PORT="$TOUR_PORT"
    port_free "$PORT" || fail "port $PORT is taken: stop what uses it, choose another TOUR_PORT, or tour that server with TOUR_URL=http://127.0.0.1:$PORT"
  else
    PORT="$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })')"
  fi
  URL="http://127.0.0.1:$PORT"
  SECRET="$(node -e 'console.log(require("node:crypto").randomBytes(48).toString("base64url"))')"
  bold "Starting the server on $URL, a port of the tour's own (npm start does the same on 6543)"
  start_server
  OWN_SERVER=yes
fi

bold "1. The counter lives in the session: a cookie jar plays the browser"
check "curl -s -c jar -b jar $URL/ | grep -o '<p>Count.*</p>'" '<p>Count: <strong>1</strong></p>'
check "curl -s -c jar -b jar $URL/howdy | grep -o '<p>Count.*</p>'" '<p>Count: <strong>2</strong></p>'
check "curl -s $URL/ | grep -o '<p>Count.*</p>'     # no jar: a new browser" '<p>Count: <strong>1</strong></p>'

bold "2. The same routes answer JSON when asked; /healthz never touches a session"
check "curl -s -c jar -b jar -H 'Accept: application/json' $URL/" '{"name":"Home View","counter":3,"cart":[]}'
check "curl -s $URL/healthz" '{"status":"ok"}'

bold "3. A form POST: take the CSRF token from the page, post with the jar, follow the 303"
printf '$ %s\n' "TOKEN=\$(curl -s -c jar -b jar $URL/ | grep -o 'name=\"_csrf\" value=\"[^\"]*\"' | head -n 1 | cut -d '\"' -f 4)"
TOKEN="$(cd "$WORK" && curl -s -c jar -b jar "$URL/" | grep -o 'name="_csrf" value="[^"]*"' | head -n 1 | cut -d '"' -f 4)"
[ -n "$TOKEN" ] || fail "no CSRF token on the home page"
echo "(TOKEN is ${#TOKEN} characters)"
check "curl -s -c jar -b jar -o /dev/null -w '%{http_code} -> %{redirect_url}\n' --data-urlencode \"_csrf=\$TOKEN\" --data-urlencode 'item=apple' $URL/cart" "303 -> $URL/"
check "curl -s -c jar -b jar -o /dev/null -w '%{http_code}\n' -d 'item=pear' $URL/cart     # no token" '403'

bold "4. The flash message crosses the redirect, once"
check "curl -s -b jar $URL/session     # read only: no count, the flash still waits" \
  '{"store":"cookie","counter":4,"cart":["apple"],"pendingFlashes":1,"idleTimeoutSeconds":1200,"expiresAt":"*","cookieBytes":*}'
check "curl -s -c jar -b jar $URL/ | grep -oE '<p class=\"flash[^>]*>[^<]*</p>|<li>[^<]*</li>'" \
  '<p class="flash flash-success" role="status">Added “apple” to your cart.</p>
<li>apple</li>'
check "curl -s -c jar -b jar $URL/ | grep -c 'class=\"flash ' || true     # shown once" '0'

if [ "$OWN_SERVER" = yes ]; then
  bold "5. Restart the server: the session is in the cookie, so the count goes on"
  echo "(the tour stops its server and starts it again with the same SESSION_SECRET)"
  stop_server
  start_server
  check "curl -s -c jar -b jar $URL/ | grep -o '<p>Count.*</p>'" '<p>Count: <strong>7</strong></p>'
else
  bold "5. (Skipped with TOUR_URL: restart your server, then repeat step 1 with the same jar.)"
fi

bold "Tour complete: every answer was as the README says."
