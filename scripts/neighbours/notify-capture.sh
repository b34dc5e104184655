#!/bin/sh
# notify-capture.sh -- a stand-in for the dealer in tests: appends each notification Cyrus sends (one JSON
# object and a newline on stdin) to BONNIE_CAPTURE_FILE, by default events.jsonl beside the events directory
# cyrus.sh creates. notifyd runs one process at a time, so appends never interleave.
exec cat >> "${BONNIE_CAPTURE_FILE:-$(dirname "$0")/../events/events.jsonl}"
