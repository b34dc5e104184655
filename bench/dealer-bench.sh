#!/usr/bin/env bash
# Times the NativeAOT dealer against a python3+pyzmq dealer (the original Bonnie's way), one process per
# event, N runs each, both against the same libzmq ROUTER that ACKs. Usage: bench/dealer-bench.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-300}
dealer=${BONNIE_DEALER_PATH:-artifacts/dealer/bonnie-dealer}
if [ ! -x "$dealer" ]; then
    dotnet publish Bonnie.Dealer -c Release -o artifacts/dealer -v quiet -nologo
    dealer=artifacts/dealer/bonnie-dealer
fi
spool=$(mktemp -d)
trap 'rm -rf "$spool"' EXIT
/usr/bin/python3 bench/dealer_bench.py "$dealer" tests/TestData/cyrus/events/MessageNew.json "$runs" "$spool/spool"
