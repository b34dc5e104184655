#!/usr/bin/env bash
# slapd.sh -- a throw-away OpenLDAP slapd (Debian 12, OpenLDAP 2.5) on a loopback port for Bonnie's tests.
# Each instance lives in its own directory, so several can run at once.
#
#   slapd.sh create DIR [--tls] [SCHEMA_FILE...]
#                                          fresh slapd.conf and empty database in DIR (DIR is wiped first);
#                                          --tls: a throw-away CA and a server certificate for 127.0.0.1 and
#                                          localhost (DIR/tls; DIR/tls/trusted is a hashed CA directory)
#   slapd.sh start DIR PORT [LDAPS_PORT]   start slapd on ldap://127.0.0.1:PORT/ (StartTLS when created with
#                                          --tls) and ldaps://127.0.0.1:LDAPS_PORT/ (pid file DIR/slapd.pid)
#   slapd.sh load DIR LDIF                 add the entries of LDIF (ldapadd when running, else slapadd)
#   slapd.sh modify DIR LDIF               apply LDIF change records (changetype: modify/modrdn/delete) online
#   slapd.sh stop DIR                      stop the slapd of DIR (only the pid in DIR/slapd.pid)
#
# The database is dc=example,dc=org with Debian's core, cosine, inetorgperson and nis schemas plus any
# SCHEMA_FILE given, the memberOf overlay, rootdn cn=admin,dc=example,dc=org and the password of
# BONNIE_LDAP_PASSWORD (default bonnie-test; a test default, never production).
# Debugging: with BONNIE_SLAPD_LOG_DIR set, start keeps slapd in the foreground (-d) and appends its log (level
# BONNIE_SLAPD_LOG_LEVEL, default stats) to BONNIE_SLAPD_LOG_DIR/<name of DIR>.log, which outlives DIR.
set -euo pipefail

SUFFIX="dc=example,dc=org"
ROOTDN="cn=admin,$SUFFIX"
PASSWORD=${BONNIE_LDAP_PASSWORD:-bonnie-test}

die() { echo "slapd.sh: $*" >&2; exit 1; }

install_slapd() {
    local need=() p
    for p in slapd ldap-utils; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
    done
    [ ${#need[@]} -eq 0 ] && return 0
    echo "slapd.sh: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

# shellcheck source=process.sh
. "$(dirname "${BASH_SOURCE[0]}")/process.sh"

slapd_pid() {
    local dir=$1 pid
    [ -s "$dir/slapd.pid" ] || return 1
    pid=$(cat "$dir/slapd.pid")
    alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = slapd ] || return 1
    echo "$pid"
}

create() {
    local dir=${1:?create needs DIR}; shift
    local tls=""
    if [ "${1:-}" = --tls ]; then tls=1; shift; fi
    install_slapd
    [ "$dir" != / ] || die "refusing to use /"
    if slapd_pid "$dir" >/dev/null; then stop "$dir"; fi
    rm -rf "$dir"
    install -d -m 0700 "$dir" "$dir/data"
    dir=$(cd "$dir" && pwd)
    local includes="" schema
    for schema in core cosine inetorgperson nis; do includes+="include /etc/ldap/schema/$schema.schema"$'\n'; done
    for schema in "$@"; do
        [ -f "$schema" ] || die "schema file $schema not found"
        includes+="include $(cd "$(dirname "$schema")" && pwd)/$(basename "$schema")"$'\n'
    done
    local tls_lines=""
    if [ -n "$tls" ]; then
        make_certificates "$dir/tls"
        tls_lines="TLSCACertificateFile $dir/tls/ca.pem
TLSCertificateFile $dir/tls/server.pem
TLSCertificateKeyFile $dir/tls/server.key"
    fi
    cat > "$dir/slapd.conf" <<EOF
# Written by Bonnie's scripts/neighbours/slapd.sh: a throw-away directory for tests.
$includes
pidfile  $dir/slapd.pid
argsfile $dir/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
$tls_lines

database mdb
maxsize  104857600
suffix   "$SUFFIX"
rootdn   "$ROOTDN"
rootpw   $(slappasswd -s "$PASSWORD")
directory $dir/data
index objectClass eq
index mail,uid,cn eq
overlay memberof
EOF
    chmod 0600 "$dir/slapd.conf"
    # ldapadd/ldapmodify read the password from this file (-y), so it never shows in a process list.
    (umask 077; printf '%s' "$PASSWORD" > "$dir/rootpw")
    slaptest -Q -u -f "$dir/slapd.conf" || die "slapd.conf does not pass slaptest"
    echo "created $dir"
}

make_certificates() {
    local tls=$1
    install -d -m 0700 "$tls" "$tls/trusted"
    (
        cd "$tls"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout ca.key -out ca.pem -subj "/CN=Bonnie test CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out server.pem \
            -extfile server.ext 2>/dev/null
        cp ca.pem trusted/ca.pem
        openssl rehash trusted
        chmod 0755 . trusted; chmod 0644 ca.pem trusted/*
    )
}

start() {
    local dir=${1:?start needs DIR} port=${2:?start needs PORT} ldaps_port=${3:-}
    [ -f "$dir/slapd.conf" ] || die "$dir has no slapd.conf: run create first"
    if pid=$(slapd_pid "$dir"); then echo "running pid=$pid"; return 0; fi
    # slapd forks into the background once it listens; it stays root (tests only, loopback only).
    local urls="ldap://127.0.0.1:$port/"
    [ -z "$ldaps_port" ] || urls+=" ldaps://127.0.0.1:$ldaps_port/"
    if [ -n "${BONNIE_SLAPD_LOG_DIR:-}" ]; then
        # Debugging: slapd stays in the foreground (-d) writing its log outside DIR, which the tests remove.
        mkdir -p "$BONNIE_SLAPD_LOG_DIR"
        setsid slapd -f "$dir/slapd.conf" -h "$urls" -d "${BONNIE_SLAPD_LOG_LEVEL:-stats}" \
            >>"$BONNIE_SLAPD_LOG_DIR/$(basename "$dir").log" 2>&1 </dev/null &
    else
        slapd -f "$dir/slapd.conf" -h "$urls" || die "slapd did not start (port $port in use?)"
    fi
    echo "$port" > "$dir/port"
    for _ in $(seq 1 100); do
        if slapd_pid "$dir" >/dev/null && timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
            echo "ready ldap://127.0.0.1:$port/ pid=$(cat "$dir/slapd.pid")"
            return 0
        fi
        sleep 0.05
    done
    die "slapd of $dir does not answer on 127.0.0.1:$port"
}

load() {
    local dir=${1:?load needs DIR} ldif=${2:?load needs LDIF}
    [ -f "$ldif" ] || die "LDIF $ldif not found"
    if slapd_pid "$dir" >/dev/null; then
        # Online, so that overlays (memberOf) see the entries.
        ldapadd -x -H "ldap://127.0.0.1:$(cat "$dir/port")/" -D "$ROOTDN" -y "$dir/rootpw" -f "$ldif" >/dev/null
    else
        slapadd -q -f "$dir/slapd.conf" -l "$ldif"
    fi
}

modify() {
    local dir=${1:?modify needs DIR} ldif=${2:?modify needs LDIF}
    [ -f "$ldif" ] || die "LDIF $ldif not found"
    slapd_pid "$dir" >/dev/null || die "the slapd of $dir is not running"
    ldapmodify -x -H "ldap://127.0.0.1:$(cat "$dir/port")/" -D "$ROOTDN" -y "$dir/rootpw" -f "$ldif" >/dev/null
}

stop() {
    local dir=${1:?stop needs DIR} pid
    if pid=$(slapd_pid "$dir"); then
        kill -INT "$pid"
        for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.05; done
        if alive "$pid"; then kill -KILL "$pid"; fi
    fi
    rm -f "$dir/slapd.pid"
    echo "stopped"
}

cmd=${1:-}; shift || true
case $cmd in
    create|start|load|modify|stop) "$cmd" "$@" ;;
    *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
