# Shared by bench-ab.sh and bench-gc.sh (sourced, not run): the child processes they start, and the
# steps both take to start a server, wait for it and get a session cookie from it.

bench_pids=()
bench_work=$(mktemp -d)
# Extra clean-up a script needs before its work folder goes (bench-ab.sh: its git worktree).
bench_before_cleanup () { :; }
bench_cleanup () {
  for pid in "${bench_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bench_before_cleanup
  rm -rf "$bench_work"
}
trap bench_cleanup EXIT

free_port () { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

new_secret () { node -e "console.log(require('crypto').randomBytes(48).toString('base64url'))"; }

# Starts a throwaway redis-server on CPU 1 (beside wrk, off the servers' CPU); its URL in $redis_url.
start_redis () {
  command -v redis-server >/dev/null || { echo "needs redis-server (apt-get install redis-server)" >&2; exit 1; }
  local port
  port=$(free_port)
  taskset -c 1 redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
  bench_pids+=($!)
  until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
  redis_url=redis://127.0.0.1:$port
}

# wait_healthy PORT PID NAME [LOG]: until /healthz answers; fails at once if the process has exited,
# showing LOG (its output) if given.
wait_healthy () {
  for _ in $(seq 150); do
    curl -sf -o /dev/null "http://127.0.0.1:$1/healthz" && return 0
    if ! kill -0 "$2" 2>/dev/null; then
      echo "$3 exited before answering" >&2
      [ -z "${4:-}" ] || cat "$4" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "$3 did not answer within 30 s" >&2
  exit 1
}

# session_cookie URL: the name=value of the first Set-Cookie a first visit gets.
session_cookie () {
  curl -s -D - -o /dev/null "$1" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -1
}
