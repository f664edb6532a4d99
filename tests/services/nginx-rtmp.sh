#!/usr/bin/env bash
# nginx with the RTMP module on 127.0.0.1, standing in for YouTube Live: records every publish to DIR/rec.
#   nginx-rtmp.sh start DIR PORT   (returns once the port accepts connections)
#   nginx-rtmp.sh stop DIR         (graceful)      nginx-rtmp.sh kill DIR   (SIGKILL, as a crash)
set -euo pipefail
cmd=$1 dir=$2
conf="$dir/nginx.conf"
case "$cmd" in
start)
  port=$3
  mkdir -p "$dir/rec" "$dir/tmp"
  chmod 777 "$dir/rec" "$dir/tmp"
  chmod o+x "$dir" "$(dirname "$dir")" 2>/dev/null || true
  cat >"$conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon on; master_process on; worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 64; }
rtmp { server { listen 127.0.0.1:$port; chunk_size 4096;
    application live2 { live on; record all; record_path $dir/rec; record_unique on; } } }
http { access_log off;
    client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp; fastcgi_temp_path $dir/tmp;
    uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp; }
CONF
  nginx -c "$conf" -p "$dir" -e "$dir/error.log"
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then exit 0; fi
    sleep 0.05
  done
  echo "nginx-rtmp did not start on $port" >&2; cat "$dir/error.log" >&2; exit 1
  ;;
stop) nginx -c "$conf" -p "$dir" -e "$dir/error.log" -s quit || true ;;
kill)
  # The worker and its master: a crash of the whole server.
  master=$(cat "$dir/nginx.pid" 2>/dev/null || echo 0)
  if [[ $master != 0 ]]; then
    # Master first in the same kill, so it cannot respawn the workers.
    kill -9 "$master" $(pgrep -P "$master") 2>/dev/null || true
  fi
  rm -f "$dir/nginx.pid"
  ;;
*) echo "usage: $0 start DIR PORT | stop DIR | kill DIR" >&2; exit 2 ;;
esac
