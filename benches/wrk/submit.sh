#!/usr/bin/env bash
# Question submissions under load: wrk (Debian) on loopback against the JSON endpoint and the form endpoint of a
# release build on the embedded defaults (SQLite), rate limits off. Prints accepted requests/s and p50/p99.
#   benches/wrk/submit.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
secs=${1:-10} conns=${2:-32}
here=$(cd "$(dirname "$0")/../.." && pwd)
cargo build --release --locked --quiet
bin=$here/target/release/citizenhour
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export CITIZENHOUR__STORAGE__DATA_DIR=$dir CITIZENHOUR__SERVER__BIND=127.0.0.1:$port
export CITIZENHOUR__INTAKE__PER_IP_BURST=0 CITIZENHOUR__INTAKE__GLOBAL_PER_SECOND=0 CITIZENHOUR__PUBLISH__WORKER=false
export RUST_LOG=warn
"$bin" session create --title "Lasttest" --host "Anna" --at 2026-12-10T18:00:00+01:00 --slug lasttest >/dev/null
"$bin" serve >"$dir/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done
for mode in json form; do
  path=/api/sessions/lasttest/questions
  [[ $mode == form ]] && path=/s/lasttest/fragen
  echo "== $mode: POST $path, $conns connections, $secs s, 2 threads"
  WRK_MODE=$mode wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$here/benches/wrk/submit.lua" "http://127.0.0.1:$port$path" \
    | grep -E "Requests\/sec|Non-2xx|50%|99%|requests in|Socket errors"
done
echo "stored questions: $("$bin" questions list lasttest --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
