#!/usr/bin/env bash
# cyrus.sh -- a real Cyrus IMAP 3.6 (Debian 12) for Bonnie's tests, started without systemd.
#
#   cyrus.sh start --notify PROGRAM [--dealer-config FILE] [--env NAME=VALUE]...
#   cyrus.sh stop
#   cyrus.sh status
#
# start: installs the Debian packages if missing, writes /etc/imapd.conf and /etc/cyrus.conf (the originals
# are saved once as *.bonnie-orig), creates the SASL users, starts rsyslogd if needed and cyrmaster with a
# clean environment, waits until IMAP and LMTP answer and makes sure every user has an INBOX.
# Idempotent: when our master already runs with the same configuration, program and environment, it is left
# alone; otherwise it is restarted.
#
# RFC 5423 event notifications go to PROGRAM through notifyd ("external" notifier). notifyd runs it as user
# cyrus (umask 077, cwd /var/lib/cyrus) with the master's environment, so PROGRAM is copied into the state
# directory (the repository may sit below a directory cyrus cannot traverse) and every --env pair, plus
# BONNIE_DEALER_CONFIG when --dealer-config is given, is put into the master's environment.
#
# Environment (all optional):
#   BONNIE_CYRUS_STATE      state directory        (default /var/tmp/bonnie-test/cyrus)
#   BONNIE_CYRUS_IMAP_PORT  IMAP on 127.0.0.1      (default 1143; offers STARTTLS)
#   BONNIE_CYRUS_IMAPS_PORT IMAP over TLS          (default 1993)
#   BONNIE_CYRUS_LMTP_PORT  LMTP on 127.0.0.1      (default 2003)
#   BONNIE_CYRUS_PASSWORD   password of every user (default bonnie-test; a test default, never production)
#   BONNIE_CYRUS_PIDFILE    the master's pid file  (default /run/bonnie-cyrus-master.pid)
# Users: cyrus (admin), alice@example.org, bob@example.org.
# TLS: a test CA (STATE/tls/ca.pem) signs the server's certificate for 127.0.0.1 and imap.example.org (not
# localhost, so that a client can be shown a certificate that does not name the host it asked for). Made once.
# Prints "ready imap=127.0.0.1:<port> imaps=127.0.0.1:<port> lmtp=127.0.0.1:<port> seconds=<setup time>" on success.
set -euo pipefail

STATE=${BONNIE_CYRUS_STATE:-/var/tmp/bonnie-test/cyrus}
IMAP_PORT=${BONNIE_CYRUS_IMAP_PORT:-1143}
IMAPS_PORT=${BONNIE_CYRUS_IMAPS_PORT:-1993}
LMTP_PORT=${BONNIE_CYRUS_LMTP_PORT:-2003}
PASSWORD=${BONNIE_CYRUS_PASSWORD:-bonnie-test}
PIDFILE=${BONNIE_CYRUS_PIDFILE:-/run/bonnie-cyrus-master.pid}
SERVERNAME=imap.example.org   # also the SASL realm of the domain-less admin
DOMAIN=example.org
USERS=(alice bob)
ADMIN=cyrus
SYSTEM_PATH=/usr/sbin:/usr/bin:/sbin:/bin

die() { echo "cyrus.sh: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# shellcheck source=process.sh
. "$(dirname "${BASH_SOURCE[0]}")/process.sh"

# Running cyrmaster processes, zombies left out.
running_masters() {
    local pid
    for pid in $(pgrep -x cyrmaster); do alive "$pid" && echo "$pid"; done
    return 0
}

master_pid() {
    # Only a master we started counts: the pid must be in our pid file and be a cyrmaster.
    [ -s "$PIDFILE" ] || return 1
    local pid; pid=$(cat "$PIDFILE")
    alive "$pid" || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = cyrmaster ] || return 1
    echo "$pid"
}

install_packages() {
    local need=() p
    for p in cyrus-imapd cyrus-admin cyrus-clients sasl2-bin rsyslog openssl; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
    done
    [ ${#need[@]} -eq 0 ] && return 0
    echo "cyrus.sh: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

stop_master() {
    local pid
    pid=$(master_pid) || { rm -f "$PIDFILE"; return 0; }
    # cyrmaster takes its children down with it on SIGTERM.
    kill -TERM "$pid"
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
        echo "cyrus.sh: master $pid ignored TERM for 10 s, sending KILL" >&2
        kill -KILL "$pid"
    fi
    rm -f "$PIDFILE"
}

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

wait_port() {
    for _ in $(seq 1 200); do port_open "$1" && return 0; sleep 0.05; done
    die "nothing answers on 127.0.0.1:$1 after 10 s (see $STATE/log/master.log and /var/log/mail.log)"
}

imap_quote() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }

# Runs IMAP commands as the admin over a plain loopback connection; fails on the first tagged NO/BAD.
imap_admin() {
    local fd line n=0 cmd
    exec {fd}<>"/dev/tcp/127.0.0.1/$IMAP_PORT"
    IFS= read -r -t 10 line <&"$fd" || die "no IMAP greeting"
    for cmd in "LOGIN $ADMIN $(imap_quote "$PASSWORD")" "$@" LOGOUT; do
        n=$((n + 1))
        printf 'b%d %s\r\n' "$n" "$cmd" >&"$fd"
        while IFS= read -r -t 10 line <&"$fd"; do
            line=${line%$'\r'}
            case $line in
                "b$n OK"*) break ;;
                "b$n "*) exec {fd}>&-; echo "$line"; return 1 ;;
                *) IMAP_UNTAGGED+=("$line") ;;
            esac
        done
    done
    exec {fd}>&-
}

ensure_inboxes() {
    local u mbox line listed
    for u in "${USERS[@]}"; do
        mbox="user/$u@$DOMAIN"
        IMAP_UNTAGGED=()
        imap_admin "LIST \"\" \"$mbox\"" >/dev/null || die "LIST $mbox failed"
        # A loop, not printf | grep -q: grep leaving at its first match can kill printf with SIGPIPE, which under
        # pipefail reads as "no LIST line" and sends a CREATE for a mailbox that exists (seen once in CI).
        listed=false
        for line in "${IMAP_UNTAGGED[@]}"; do
            [[ $line == '* LIST'* ]] && listed=true
        done
        if ! $listed; then
            imap_admin "CREATE \"$mbox\"" >/dev/null || die "CREATE $mbox failed"
        fi
    done
}

# The test CA and the server's certificate, made once (the tests trust STATE/tls/ca.pem, never the machine's store).
ensure_certificates() {
    local dir=$STATE/tls
    [ -s "$dir/ca.pem" ] && [ -s "$dir/server.pem" ] && [ -s "$dir/server.key" ] && return 0
    install -d -m 0755 "$dir"
    rm -f "$dir/ca.key" "$dir/server.key"
    # Keys are born unreadable to others (umask), not made so afterwards; the CA's key is gone once it has signed.
    (
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -subj "/CN=Bonnie test CA" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null \
        || die "could not make the test CA"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$SERVERNAME" \
        -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null || die "could not make the server's key"
    printf 'subjectAltName=IP:127.0.0.1,DNS:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$SERVERNAME" \
        > "$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 3650 \
        -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null || die "could not sign the server's certificate"
    )
    chown cyrus:mail "$dir/server.key"
    chmod 0644 "$dir/ca.pem" "$dir/server.pem"
    rm -f "$dir/ca.key" "$dir/ca.srl" "$dir/server.csr" "$dir/server.ext"
}

write_configs() {
    local program=$1 out=$2
    cat > "$out/imapd.conf" <<EOF
# Written by Bonnie's scripts/neighbours/cyrus.sh for tests; the original is /etc/imapd.conf.bonnie-orig.
configdirectory: /var/lib/cyrus
proc_path: /run/cyrus/proc
mboxname_lockpath: /run/cyrus/lock
defaultpartition: default
partition-default: /var/spool/cyrus/mail
hashimapspool: true
umask: 077
syslog_prefix: cyrus
servername: $SERVERNAME
admins: $ADMIN

# Kolab's namespace: '/' separates folders, logins are user@domain.
altnamespace: no
unixhierarchysep: yes
virtdomains: userid
lmtp_downcase_rcpt: yes

# Plain text passwords over loopback only, checked against sasldb.
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_mech_list: PLAIN LOGIN
sasl_minimum_layer: 0

# STARTTLS on the IMAP port and implicit TLS on the IMAPS port, with the test CA's certificate.
tls_server_cert: $STATE/tls/server.pem
tls_server_key: $STATE/tls/server.key

lmtpsocket: /run/cyrus/socket/lmtp
idlesocket: /run/cyrus/socket/idle
notifysocket: /run/cyrus/socket/notify

# RFC 5423 event notifications: notifyd runs notify_external once per event.
# No 'quota' group (3.6.1 crashes imapd/lmtpd on QuotaExceed) and no messageContent (never filled in
# standard mode, crashes lmtpd in the others): see docs/connect-your-cyrus.md.
event_notifier: external
notify_external: $program
event_groups: message flags access mailbox subscription
event_extra_params: bodyStructure clientAddress diskUsed flagNames messageSize messages modseq service timestamp uidnext vnd.cmu.midset vnd.cmu.unseenMessages vnd.cmu.envelope vnd.cmu.sessionId vnd.cmu.mailboxACL vnd.cmu.mbtype vnd.cmu.davFilename vnd.cmu.davUid vnd.cmu.emailid vnd.cmu.threadid
event_content_inclusion_mode: standard
event_content_size: 0
event_exclude_specialuse: none
EOF
    cat > "$out/cyrus.conf" <<EOF
# Written by Bonnie's scripts/neighbours/cyrus.sh for tests; the original is /etc/cyrus.conf.bonnie-orig.
START {
  recover       cmd="/usr/sbin/cyrus ctl_cyrusdb -r"
}
SERVICES {
  imap          cmd="imapd" listen="127.0.0.1:$IMAP_PORT" prefork=0 maxchild=100
  imaps         cmd="imapd -s" listen="127.0.0.1:$IMAPS_PORT" prefork=0 maxchild=20
  lmtp          cmd="lmtpd -a" listen="127.0.0.1:$LMTP_PORT" prefork=0 maxchild=20
  lmtpunix      cmd="lmtpd" listen="/run/cyrus/socket/lmtp" prefork=0 maxchild=20
  notify        cmd="notifyd" listen="/run/cyrus/socket/notify" proto="udp" prefork=1
}
EVENTS {
  checkpoint    cmd="/usr/sbin/cyrus ctl_cyrusdb -c" period=30
}
EOF
}

start() {
    local program="" dealer_config="" extra_env=()
    while [ $# -gt 0 ]; do
        case $1 in
            --notify) program=${2:?--notify needs a program}; shift 2 ;;
            --dealer-config) dealer_config=${2:?--dealer-config needs a file}; shift 2 ;;
            --env) [[ ${2:-} == [A-Za-z_]*=* ]] || die "--env needs NAME=VALUE"; extra_env+=("$2"); shift 2 ;;
            *) die "unknown argument $1" ;;
        esac
    done
    [ -n "$program" ] || die "start needs --notify PROGRAM"
    [ -f "$program" ] && [ -x "$program" ] || die "notification program $program is not an executable file"
    [ -z "$dealer_config" ] || [ -f "$dealer_config" ] || die "dealer config $dealer_config not found"
    [ "$(id -u)" -eq 0 ] || die "must run as root (cyrmaster binds ports and switches to user cyrus)"

    local t0; t0=$(now)
    install_packages

    # Everything notifyd's child needs lives below STATE, traversable by cyrus; what it writes goes to
    # STATE/events (captures) and STATE/dealer (the dealer's own files), owned by cyrus.
    install -d -m 0755 "$STATE" "$STATE/bin" "$STATE/log" "$STATE/staging"
    install -d -o cyrus -g mail -m 0750 "$STATE/events" "$STATE/dealer"
    ensure_certificates
    local parent=$STATE
    while [ "$parent" != / ]; do
        parent=$(dirname "$parent")
        su -s /bin/sh cyrus -c "test -x '$parent'" 2>/dev/null \
            || die "user cyrus cannot traverse $parent: choose another BONNIE_CYRUS_STATE"
    done

    local installed="$STATE/bin/$(basename "$program")"
    install -m 0755 "$program" "$STATE/staging/program"
    local env_lines=("PATH=$SYSTEM_PATH" "LANG=C.UTF-8")
    if [ -n "$dealer_config" ]; then
        install -o cyrus -g mail -m 0600 "$dealer_config" "$STATE/dealer/dealer.config"
        env_lines+=("BONNIE_DEALER_CONFIG=$STATE/dealer/dealer.config")
    fi
    env_lines+=(${extra_env[@]+"${extra_env[@]}"})
    write_configs "$installed" "$STATE/staging"
    printf '%s\n' "${env_lines[@]}" > "$STATE/staging/master.env"

    local fingerprint
    # The certificate too: a master started with another one would go on presenting it.
    fingerprint=$(cat "$STATE/staging/program" "$STATE/staging/imapd.conf" "$STATE/staging/cyrus.conf" \
                      "$STATE/staging/master.env" "${dealer_config:-/dev/null}" "$STATE/tls/server.pem" | sha256sum | cut -d' ' -f1)
    if master_pid >/dev/null && [ "$(cat "$STATE/fingerprint" 2>/dev/null)" = "$fingerprint" ] \
        && port_open "$IMAP_PORT" && port_open "$IMAPS_PORT" && port_open "$LMTP_PORT"; then
        echo "ready imap=127.0.0.1:$IMAP_PORT imaps=127.0.0.1:$IMAPS_PORT lmtp=127.0.0.1:$LMTP_PORT seconds=$(elapsed "$t0") (already running)"
        return 0
    fi
    stop_master

    # A master not started by us (a distribution service) holds the same sockets: refuse rather than kill.
    if [ -n "$(running_masters)" ]; then
        die "another cyrmaster is running (pid $(running_masters | tr '\n' ' ')); stop it first"
    fi

    local f
    for f in imapd.conf cyrus.conf; do
        [ -e "/etc/$f.bonnie-orig" ] || cp -p "/etc/$f" "/etc/$f.bonnie-orig"
        install -m 0644 "$STATE/staging/$f" "/etc/$f"
    done
    install -m 0755 "$STATE/staging/program" "$installed"

    # What systemd-tmpfiles would create.
    install -d -o cyrus -g mail -m 0755 /run/cyrus
    install -d -o cyrus -g mail -m 0750 /run/cyrus/socket
    install -d -o cyrus -g mail -m 0700 /run/cyrus/proc /run/cyrus/lock

    # Cyrus logs only through syslog.
    pgrep -x rsyslogd >/dev/null || rsyslogd

    # saslpasswd2 -c creates or overwrites, so this is idempotent.
    printf '%s' "$PASSWORD" | saslpasswd2 -p -c -u "$SERVERNAME" "$ADMIN"
    local u
    for u in "${USERS[@]}"; do printf '%s' "$PASSWORD" | saslpasswd2 -p -c -u "$DOMAIN" "$u"; done
    chgrp sasl /etc/sasldb2
    chmod 0640 /etc/sasldb2

    # notifyd hands the master's environment to the notification program: start from an empty one.
    env -i "${env_lines[@]}" /usr/sbin/cyrmaster -d -p "$PIDFILE" -L "$STATE/log/master.log"
    for _ in $(seq 1 100); do master_pid >/dev/null && break; sleep 0.05; done
    master_pid >/dev/null || die "cyrmaster did not start (see $STATE/log/master.log and /var/log/mail.log)"
    wait_port "$IMAP_PORT"
    wait_port "$IMAPS_PORT"
    wait_port "$LMTP_PORT"
    ensure_inboxes
    echo "$fingerprint" > "$STATE/fingerprint"
    echo "ready imap=127.0.0.1:$IMAP_PORT imaps=127.0.0.1:$IMAPS_PORT lmtp=127.0.0.1:$LMTP_PORT seconds=$(elapsed "$t0")"
}

case ${1:-} in
    start) shift; start "$@" ;;
    stop) stop_master; rm -f "$STATE/fingerprint"; echo "stopped" ;;
    status) if pid=$(master_pid); then echo "running pid=$pid imap=127.0.0.1:$IMAP_PORT imaps=127.0.0.1:$IMAPS_PORT lmtp=127.0.0.1:$LMTP_PORT"; else echo "stopped"; exit 3; fi ;;
    *) sed -n '2,30p' "$0" >&2; exit 2 ;;
esac
