#!/usr/bin/env bash
# Measures, on a real Cyrus with the real dealer and a real Bonnie (broker + worker + store + API in one process):
#   1. IMAP action to searchable in Bonnie's API, p50/p95, over N actions (APPEND and STORE +FLAGS alternating);
#   2. what the dealer costs the IMAP client: M STOREs with notifications going to Bonnie against the same with
#      notifyd running /bin/true instead of the dealer, interleaved in rounds in the same run.
# Needs root (it starts Cyrus with scripts/neighbours/cyrus.sh and stops it at the end).
# Usage: bench/cyrus-e2e.sh [N=200] [M=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
actions=${1:-200}
stores=${2:-1000}
dealer=${BONNIE_DEALER_PATH:-artifacts/dealer/bonnie-dealer}
if [ ! -x "$dealer" ]; then
    dotnet publish Bonnie.Dealer -c Release -o artifacts/dealer -v quiet -nologo
    dealer=artifacts/dealer/bonnie-dealer
fi
web=Bonnie.Web/bin/Release/net10.0/Bonnie.Web.dll
[ -f "$web" ] || dotnet build Bonnie.Web -c Release -v quiet -nologo
work=$(mktemp -d)
trap 'bash scripts/neighbours/cyrus.sh stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
/usr/bin/python3 bench/cyrus_e2e.py "$dealer" "$web" "$work" "$actions" "$stores"
