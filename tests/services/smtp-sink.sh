#!/usr/bin/env bash
# An SMTP server on 127.0.0.1 that stores every message it accepts in a Maildir (aiosmtpd, Debian's
# python3-aiosmtpd) — the mail relay of the notification tests.
#   smtp-sink.sh start DIR PORT   (messages land in DIR/Maildir/new; returns once the port accepts)
#   smtp-sink.sh stop DIR
set -euo pipefail
cmd=$1 dir=$2
# Debian's interpreter, where python3-aiosmtpd is installed (a pyenv/venv python3 on PATH may lack it).
py=/usr/bin/python3
case "$cmd" in
start)
  port=$3
  mkdir -p "$dir"
  nohup "$py" -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$dir/Maildir" \
    >"$dir/smtp.log" 2>&1 &
  echo $! >"$dir/smtp.pid"
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then exit 0; fi
    sleep 0.05
  done
  echo "smtp sink did not start (python3-aiosmtpd installed?)" >&2; cat "$dir/smtp.log" >&2; exit 1
  ;;
stop)
  if [[ -f $dir/smtp.pid ]]; then
    pid=$(cat "$dir/smtp.pid"); kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    rm -f "$dir/smtp.pid"
  fi
  ;;
*) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
