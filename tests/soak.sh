#!/usr/bin/env bash
# Soak: repeats the reliability tests ROUNDS times (default 10) and prints how often each passed.
#   tests/soak.sh [ROUNDS]
# SIGKILL during recording (5 kills per round), SRT drop/reconnect and freeze, RTMP target killed and restarted,
# live HLS disk vanishing. Exit status 1 if any round failed; failing logs are kept in target/soak/.
set -uo pipefail
rounds=${1:-10}
cd "$(dirname "$0")/.."
mkdir -p target/soak
cargo build --tests --quiet || exit 1
tests=(
  "crash_safety"
  "srt_ingest"
  "live_outputs"
)
declare -A passed
for t in "${tests[@]}"; do passed[$t]=0; done
for ((r = 1; r <= rounds; r++)); do
  for t in "${tests[@]}"; do
    log="target/soak/$t-$r.log"
    if cargo test --quiet --test "$t" -- --test-threads=1 >"$log" 2>&1; then
      passed[$t]=$((passed[$t] + 1))
      rm -f "$log"
    else
      echo "soak: round $r: $t FAILED (log: $log)"
    fi
  done
  echo "soak: round $r/$rounds done"
done
status=0
for t in "${tests[@]}"; do
  echo "soak: $t passed ${passed[$t]}/$rounds"
  [[ ${passed[$t]} -eq $rounds ]] || status=1
done
exit $status
