#!/usr/bin/env bash
# Dovecot (Debian dovecot-imapd + dovecot-lmtpd) on 127.0.0.1 with one mailbox — the town mailbox of the
# mail intake tests. Test mails are delivered over LMTP, the intake reads them over IMAP.
#   dovecot.sh start DIR IMAP_PORT LMTP_PORT USER PASSWORD   (returns once IMAP accepts)
#   dovecot.sh stop DIR
#   dovecot.sh doveadm DIR ARGS…                            (e.g. search -u USER mailbox INBOX ALL)
set -euo pipefail
cmd=$1 dir=$2
conf="$dir/dovecot.conf"
case "$cmd" in
start)
  imap_port=$3 lmtp_port=$4 user=$5 password=$6
  mkdir -p "$dir/run" "$dir/state" "$dir/mail"
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
ssl = no
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
    port = 0
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
