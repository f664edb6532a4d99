#!/usr/bin/env bash
# Dovecot (Debian dovecot-imapd + dovecot-lmtpd) on 127.0.0.1 with one mailbox — the town mailbox of the
# mail intake tests. Test mails are delivered over LMTP, the intake reads them over IMAP.
#   dovecot.sh start DIR IMAP_PORT LMTP_PORT USER PASSWORD [IMAPS_PORT]   (returns once IMAP accepts)
#     with IMAPS_PORT: TLS on it and STARTTLS on IMAP_PORT, with a test CA made here (DIR/ca.pem, trusted by
#     nobody else) and a server certificate for 127.0.0.1
#   dovecot.sh stop DIR
#   dovecot.sh doveadm DIR ARGS…                            (e.g. search -u USER mailbox INBOX ALL)
set -euo pipefail
cmd=$1 dir=$2
conf="$dir/dovecot.conf"
case "$cmd" in
start)
  imap_port=$3 lmtp_port=$4 user=$5 password=$6 imaps_port=${7:-0}
  mkdir -p "$dir/run" "$dir/state" "$dir/mail"
  ssl_conf="ssl = no"
  if [[ $imaps_port != 0 ]]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=citizenhour test CA" \
      -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$dir/san.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
      -extfile "$dir/san.ext" -out "$dir/server.pem" 2>/dev/null
    ssl_conf="ssl = yes
ssl_cert = <$dir/server.pem
ssl_key = <$dir/server.key"
  fi
  # Mail is read and written as nobody: every directory above the mail store must be passable.
  chmod 755 "$dir" "$(dirname "$dir")"
  chown nobody:nogroup "$dir/mail"
  printf '%s:{PLAIN}%s\n' "$user" "$password" >"$dir/users"
  cat >"$conf" <<CONF
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
$ssl_conf
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:$dir/mail/%n/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $dir/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dir/mail/%n
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $imaps_port
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $lmtp_port
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
CONF
  # DOVECOT_IMAP_CAPABILITY: what the server advertises after login (e.g. without MOVE and IDLE).
  if [[ -n ${DOVECOT_IMAP_CAPABILITY:-} ]]; then
    printf 'imap_capability = %s\n' "$DOVECOT_IMAP_CAPABILITY" >>"$conf"
  fi
  dovecot -c "$conf"
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$imap_port") 2>/dev/null; then exit 0; fi
    sleep 0.05
  done
  echo "dovecot did not start (deploy/install-deps.sh --test installs it)" >&2; cat "$dir/dovecot.log" >&2; exit 1
  ;;
stop)
  if [[ -f $conf ]]; then doveadm -c "$conf" stop 2>/dev/null || true; fi
  ;;
doveadm)
  shift 2
  doveadm -c "$conf" "$@"
  ;;
*) echo "usage: $0 start DIR IMAP_PORT LMTP_PORT USER PASSWORD | stop DIR | doveadm DIR ARGS…" >&2; exit 2 ;;
esac
