#!/usr/bin/env bash
# `npm run bench:gc -- [STORE|LADDER_STEP]`: the garbage collector's pauses under the bench's load.
# Starts the built app in STORE mode (cookie, memory, redis), or with `ladder:STEP` the ladder server
# (ladder:csrf, ladder:store-session, ladder:store-session-redis …), with --trace-gc; drives GET /
# with a session cookie for 5 s (wrk, 10 connections, after a 2 s warm-up) and sums the pauses:
# how many scavenges and mark-compacts, their total and longest, and the allocation per request.
# p99 at 10 connections is where these pauses show.
#
#   npm run build && npm run bench:gc -- memory
#   npm run bench:gc -- ladder:store-session
set -euo pipefail
what=${1:-cookie}
root=$(cd "$(dirname "$0")/.." && pwd)
command -v wrk >/dev/null || { echo "bench:gc needs wrk (apt-get install wrk)" >&2; exit 1; }
# shellcheck source=scripts/bench-lib.sh
source "$root/scripts/bench-lib.sh"
work=$bench_work

settings=(HOST=127.0.0.1 NODE_ENV=production LOG_LEVEL=warn SESSION_SECRET="$(new_secret)")
if [[ $what == *redis* ]]; then
  start_redis
  settings+=(REDIS_URL="$redis_url")
fi
if [[ $what == ladder:* ]]; then
  settings+=(LADDER="${what#ladder:}")
  script=bench/ladder-server.js
else
  settings+=(SESSION_STORE="$what")
  script=dist/src/server.js
fi

port=$(free_port)
(cd "$root" && exec env PORT="$port" "${settings[@]}" taskset -c 0 node --trace-gc "$script" >"$work/gc.log" 2>&1) &
server=$!
bench_pids+=($server)
wait_healthy "$port" "$server" "the server" "$work/gc.log"
url="http://127.0.0.1:$port/"
cookie=$(session_cookie "$url")
taskset -c 1 wrk -t1 -c10 -d2s -H "cookie: $cookie" "$url" >/dev/null
from=$(wc -l <"$work/gc.log")
out=$(taskset -c 1 wrk -t1 -c10 -d5s --latency -H "cookie: $cookie" "$url")
requests=$(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
# A trace line: "… Scavenge 49.5 (69.1) -> 36.2 (69.1) MB, 1.45 / 0.27 ms …": heap before and
# after, then the pause. What a scavenge finds above the last one's "after" was allocated since.
tail -n +"$((from + 1))" "$work/gc.log" | grep -E 'Scavenge|Mark-Compact' | awk -v n="$requests" -v p99="$p99" -v what="$what" '
  {
    for (i = 1; i <= NF; i++) if ($i == "->") { before = $(i - 2); after = $(i + 1) }
    match($0, /MB, [0-9.]+/); pause = substr($0, RSTART + 4, RLENGTH - 4) + 0
  }
  /Scavenge/ { scavenges++; scavengeMs += pause; if (pause > scavengeMax) scavengeMax = pause; if (seen) allocated += before - last }
  /Mark-Compact/ { marks++; markMs += pause; if (pause > markMax) markMax = pause }
  { last = after; seen = 1 }
  END {
    printf "%s: %d requests in 5 s, p99 %s\n", what, n, p99
    printf "  scavenges: %d, %.1f ms in all, longest %.1f ms\n", scavenges, scavengeMs, scavengeMax
    printf "  mark-compacts: %d, %.1f ms in all, longest %.1f ms\n", marks, markMs, markMax
    printf "  allocated: about %.0f KB per request\n", allocated * 1024 / n
  }'
