#!/usr/bin/env bash
# postfix.sh -- Postfix 3.7 (Debian 12) for Bonnie's tests: SMTP on a loopback port, relaying the mail
# domain to Cyrus' LMTP, logging to a file of its own (maillog_file, no syslog needed).
#
#   postfix.sh start     configure (main.cf/master.cf originals saved once as *.bonnie-orig) and start or reload
#   postfix.sh stop
#
# Environment (all optional):
#   BONNIE_POSTFIX_STATE      state directory (default /var/tmp/bonnie-test/postfix); the log is <state>/postfix.log
#   BONNIE_POSTFIX_SMTP_PORT  SMTP on 127.0.0.1 (default 2525)
#   BONNIE_CYRUS_LMTP_PORT    Cyrus LMTP on 127.0.0.1 (default 2003)
# Prints "ready smtp=127.0.0.1:<port> log=<file>" on success.
set -euo pipefail

STATE=${BONNIE_POSTFIX_STATE:-/var/tmp/bonnie-test/postfix}
SMTP_PORT=${BONNIE_POSTFIX_SMTP_PORT:-2525}
LMTP_PORT=${BONNIE_CYRUS_LMTP_PORT:-2003}
DOMAIN=example.org
LOG=$STATE/postfix.log

die() { echo "postfix.sh: $*" >&2; exit 1; }

install_postfix() {
    dpkg-query -W -f='${Status}' postfix 2>/dev/null | grep -q 'install ok installed' && return 0
    echo "postfix.sh: installing postfix" >&2
    export DEBIAN_FRONTEND=noninteractive
    debconf-set-selections <<'SEL'
postfix postfix/main_mailer_type select Local only
postfix postfix/mailname string imap.example.org
SEL
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends postfix >/dev/null
}

start() {
    [ "$(id -u)" -eq 0 ] || die "must run as root"
    install_postfix
    install -d -m 0755 "$STATE"
    local before; before=$( (postconf -n; postconf -M) | sha256sum)
    local f
    for f in main.cf master.cf; do
        [ -e "/etc/postfix/$f.bonnie-orig" ] || cp -p "/etc/postfix/$f" "/etc/postfix/$f.bonnie-orig"
    done
    postconf -e \
        'inet_interfaces = loopback-only' 'inet_protocols = ipv4' \
        'myhostname = mx.example.org' 'mydestination = localhost' 'mynetworks = 127.0.0.0/8' \
        "relay_domains = $DOMAIN" "relay_transport = lmtp:inet:127.0.0.1:$LMTP_PORT" \
        'lmtp_lhlo_name = mx.example.org' 'compatibility_level = 3.6' \
        'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination' \
        "maillog_file_prefixes = /var, /dev/stdout, $STATE" "maillog_file = $LOG"
    # Exactly one smtpd listener, ours: drop the distribution's *:25 and any earlier port of ours.
    local service
    for service in $(postconf -M | awk '$2 == "inet" && $8 == "smtpd" { print $1 "/inet" }'); do
        postconf -MX "$service"
    done
    postconf -Me "127.0.0.1:$SMTP_PORT/inet = 127.0.0.1:$SMTP_PORT inet n - y - - smtpd"
    postfix check
    # inet_interfaces and listeners change only with a restart, so restart when anything changed.
    if postfix status >/dev/null 2>&1; then
        [ "$( (postconf -n; postconf -M) | sha256sum)" = "$before" ] || { postfix stop >/dev/null 2>&1; postfix start >/dev/null 2>&1; }
    else
        postfix start >/dev/null 2>&1
    fi
    for _ in $(seq 1 200); do
        timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT" 2>/dev/null && {
            echo "ready smtp=127.0.0.1:$SMTP_PORT log=$LOG"; return 0; }
        sleep 0.05
    done
    die "nothing answers on 127.0.0.1:$SMTP_PORT after 10 s (see $LOG)"
}

case ${1:-} in
    start) start ;;
    stop) if postfix status >/dev/null 2>&1; then postfix stop >/dev/null 2>&1; fi; echo "stopped" ;;
    *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
