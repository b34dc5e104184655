#!/bin/sh
# Stands in for the dealer to show what notifyd gives it: who it runs as, where, with which umask and
# environment, and whether it can read the configuration named by BONNIE_DEALER_CONFIG.
out="$(dirname "$0")/../events/environment.txt"
{
    echo "user=$(id -un) group=$(id -gn) umask=$(umask) cwd=$(pwd)"
    echo "config=${BONNIE_DEALER_CONFIG:-}"
    echo "extra=${BONNIE_TEST_EXTRA:-}"
    echo "content=$(cat "${BONNIE_DEALER_CONFIG:-/nonexistent}" 2>&1)"
    echo "event=$(head -c 200)"
} >> "$out"
