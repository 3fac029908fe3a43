#!/usr/bin/env bash
# `npm run bench:ab -- REV [ROUNDS] [STORE]`: the app built at git revision REV (A) against the
# working tree's build (B), GET / with a session cookie, in alternating 2 s rounds of wrk, so that
# this machine's drift hits both alike. Each round prints req/s, the server's CPU time per request
# (user + system from /proc/<pid>/stat: less noisy than req/s) and p99. This is how the before/after
# rows in BENCHMARKS.md were measured. Both servers on CPU 0, wrk on CPU 1, as in `npm run bench`.
#
#   npm run bench:ab -- HEAD~1            # 6 rounds, cookie mode
#   npm run bench:ab -- HEAD~1 8 memory
set -euo pipefail
rev=${1:?usage: npm run bench:ab -- REV [ROUNDS] [STORE]}
rounds=${2:-6}
store=${3:-cookie}
root=$(cd "$(dirname "$0")/.." && pwd)
command -v wrk >/dev/null || { echo "bench:ab needs wrk (apt-get install wrk)" >&2; exit 1; }
# shellcheck source=scripts/bench-lib.sh
source "$root/scripts/bench-lib.sh"
work=$bench_work
bench_before_cleanup () { git -C "$root" worktree remove --force "$work/a" 2>/dev/null || true; }

# A: the revision, built in a worktree with this checkout's node_modules. B: this tree, built now.
git -C "$root" worktree add --quiet --detach "$work/a" "$rev"
ln -s "$root/node_modules" "$work/a/node_modules"
(cd "$work/a" && npx tsc -p tsconfig.build.json)
(cd "$root" && npm run build --silent)

settings=(HOST=127.0.0.1 NODE_ENV=production LOG_LEVEL=warn SESSION_STORE="$store" SESSION_SECRET="$(new_secret)")
if [ "$store" = redis ]; then
  start_redis
  settings+=(REDIS_URL="$redis_url")
fi
declare -A port cookie pid
for side in A B; do
  dir=$([ $side = A ] && echo "$work/a" || echo "$root")
  port[$side]=$(free_port)
  (cd "$dir" && exec env PORT="${port[$side]}" "${settings[@]}" taskset -c 0 node dist/src/server.js >/dev/null) &
  pid[$side]=$!
  bench_pids+=($!)
done
for side in A B; do
  wait_healthy "${port[$side]}" "${pid[$side]}" "server $side"
  cookie[$side]=$(session_cookie "http://127.0.0.1:${port[$side]}/")
  taskset -c 1 wrk -t1 -c10 -d2s -H "cookie: ${cookie[$side]}" "http://127.0.0.1:${port[$side]}/" >/dev/null # warm-up
done

ticks=$(getconf CLK_TCK)
cpu () { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
echo "A = $rev ($(git -C "$root" rev-parse --short "$rev")), B = this tree; $store mode, GET / with a session cookie, wrk 10 connections, 2 s rounds"
for round in $(seq "$rounds"); do
  line="round $round:"
  for side in A B; do
    before=$(cpu "${pid[$side]}")
    out=$(taskset -c 1 wrk -t1 -c10 -d2s --latency -H "cookie: ${cookie[$side]}" "http://127.0.0.1:${port[$side]}/")
    after=$(cpu "${pid[$side]}")
    requests=$(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
    rps=$(echo "$out" | awk '/Requests\/sec/ { printf "%d", $2 }')
    p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
    line="$line  $side $rps req/s, $(( (after - before) * 1000000 / ticks / requests )) µs CPU/request, p99 $p99"
  done
  echo "$line"
done
