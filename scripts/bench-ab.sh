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
[ "$store" != redis ] || command -v redis-server >/dev/null || { echo "redis mode needs redis-server (apt-get install redis-server)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup () {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  git -C "$root" worktree remove --force "$work/a" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A: the revision, built in a worktree with this checkout's node_modules. B: this tree, built now.
git -C "$root" worktree add --quiet --detach "$work/a" "$rev"
ln -s "$root/node_modules" "$work/a/node_modules"
(cd "$work/a" && npx tsc -p tsconfig.build.json)
(cd "$root" && npm run build --silent)

free_port () { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
redis_url=
if [ "$store" = redis ]; then
  redis_port=$(free_port)
  taskset -c 1 redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
  pids+=($!)
  redis_url=redis://127.0.0.1:$redis_port
  until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.1; done
fi

secret=$(node -e "console.log(require('crypto').randomBytes(48).toString('base64url'))")
settings=(HOST=127.0.0.1 NODE_ENV=production LOG_LEVEL=warn SESSION_STORE="$store" SESSION_SECRET="$secret")
[ -z "$redis_url" ] || settings+=(REDIS_URL="$redis_url")
declare -A port cookie pid
for side in A B; do
  dir=$([ $side = A ] && echo "$work/a" || echo "$root")
  port[$side]=$(free_port)
  (cd "$dir" && exec env PORT="${port[$side]}" "${settings[@]}" taskset -c 0 node dist/src/server.js >/dev/null) &
  pid[$side]=$!
  pids+=($!)
done
for side in A B; do
  for _ in $(seq 150); do
    curl -sf -o /dev/null "http://127.0.0.1:${port[$side]}/healthz" && break
    kill -0 "${pid[$side]}" 2>/dev/null || { echo "server $side exited before answering" >&2; exit 1; }
    sleep 0.2
  done
  cookie[$side]=$(curl -s -D - -o /dev/null "http://127.0.0.1:${port[$side]}/" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -1)
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
