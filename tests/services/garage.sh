#!/usr/bin/env bash
# Garage (S3-compatible storage) on 127.0.0.1 with one key and one bucket, for the publishing tests.
#   garage.sh start DIR S3_PORT RPC_PORT ADMIN_PORT KEY_ID SECRET BUCKET   (returns once /health answers)
#   garage.sh stop DIR
# The binary comes from `cargo install garage --locked` (deploy/install-deps.sh --test caches it in ~/.cargo/bin).
set -euo pipefail
cmd=$1 dir=$2
case "$cmd" in
start)
  s3=$3 rpc=$4 admin=$5 key=$6 secret=$7 bucket=$8
  bin=$(command -v garage || echo "$HOME/.cargo/bin/garage")
  [[ -x $bin ]] || { echo "garage not installed: run deploy/install-deps.sh --test" >&2; exit 1; }
  mkdir -p "$dir/meta" "$dir/data"
  cat >"$dir/garage.toml" <<CONF
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc"
rpc_public_addr = "127.0.0.1:$rpc"
rpc_secret = "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3"
root_domain = ".s3.garage.localhost"
[admin]
api_bind_addr = "127.0.0.1:$admin"
admin_token = "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
CONF
  GARAGE_DEFAULT_ACCESS_KEY=$key GARAGE_DEFAULT_SECRET_KEY=$secret GARAGE_DEFAULT_BUCKET=$bucket \
    nohup "$bin" -c "$dir/garage.toml" server --single-node --default-bucket >"$dir/garage.log" 2>&1 &
  echo $! >"$dir/garage.pid"
  for _ in $(seq 1 200); do
    if curl -fsS "http://127.0.0.1:$admin/health" >/dev/null 2>&1; then exit 0; fi
    sleep 0.05
  done
  echo "garage did not start" >&2; cat "$dir/garage.log" >&2; exit 1
  ;;
stop)
  if [[ -f $dir/garage.pid ]]; then kill "$(cat "$dir/garage.pid")" 2>/dev/null || true; rm -f "$dir/garage.pid"; fi
  ;;
*) echo "usage: $0 start DIR S3_PORT RPC_PORT ADMIN_PORT KEY_ID SECRET BUCKET | stop DIR" >&2; exit 2 ;;
esac
