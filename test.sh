#!/usr/bin/env bash
# Runs every test of Bonnie against its real neighbours (Cyrus IMAP, OpenLDAP, Postfix, Chromium, libzmq).
# Installs what is missing from Debian's packages, builds once, runs each test project, and ends with
#   Tests: N passed, N failed, N skipped
# Exit status is non-zero when a test failed, a project did not run, or nothing ran at all.
set -uo pipefail
cd "$(dirname "$0")"
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

scripts/install-neighbours.sh || { echo "test.sh: installing the test neighbours failed" >&2; exit 1; }

results="$root/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"

echo "== build"
dotnet build Bonnie.sln -c Release -v quiet -nologo || { echo "Tests: 0 passed, 1 failed, 0 skipped"; exit 1; }

# The dealer is what Cyrus runs per event: the tests drive the NativeAOT binary, as production does.
echo "== publish the dealer (NativeAOT)"
dotnet publish Bonnie.Dealer -c Release -o "$root/artifacts/dealer" -v quiet -nologo \
    || { echo "Tests: 0 passed, 1 failed, 0 skipped"; exit 1; }
export BONNIE_DEALER_PATH="$root/artifacts/dealer/bonnie-dealer"

status=0
aborted=""
for proj in tests/*/*.csproj; do
    name=$(basename "$proj" .csproj)
    echo "== $name"
    dotnet test "$proj" -c Release --no-build --nologo \
        --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
        --blame-hang-timeout 10m || { status=1; aborted="$aborted $name"; }
    [ -f "$results/$name.trx" ] || { echo "test.sh: $name produced no results" >&2; status=1; }
done

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
    get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
    total=$(get total); executed=$(get executed); p=$(get passed); f=$(get failed); e=$(get error); t=$(get timeout)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0}))
    skipped=$((skipped + ${total:-0} - ${executed:-0}))
    # A run that ended badly with no failed test in its results (the test host crashed, the run was aborted): the
    # tests it never reached are not "skipped", and the line must not read "0 failed". Count it as one failure.
    name=$(basename "$trx" .trx)
    case " $aborted " in
        *" $name "*) [ $((${f:-0} + ${e:-0} + ${t:-0})) -eq 0 ] && {
            echo "test.sh: $name ended badly (test host crashed or run aborted) after $p passed tests: counted as 1 failed" >&2
            failed=$((failed + 1)); } ;;
    esac
done
[ "$failed" -gt 0 ] && status=1
[ $((passed + failed)) -eq 0 ] && { echo "test.sh: no test ran" >&2; status=1; }
echo "test.sh: ${SECONDS} s in all"
echo "Tests: $passed passed, $failed failed, $skipped skipped"
exit $status
