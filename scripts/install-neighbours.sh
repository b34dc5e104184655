#!/usr/bin/env bash
# Installs the Debian packages the tests need, only those missing. Non-interactive; waits for the dpkg lock.
set -euo pipefail
packages=(cyrus-imapd cyrus-admin cyrus-clients sasl2-bin rsyslog slapd ldap-utils postfix chromium
          python3-zmq libldap-2.5-0 clang zlib1g-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Answer the questions these packages ask, so that apt never waits for a person.
debconf-set-selections <<'SEL'
postfix postfix/main_mailer_type select Local only
postfix postfix/mailname string imap.example.org
slapd slapd/no_configuration boolean true
SEL
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
