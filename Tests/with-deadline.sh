#!/usr/bin/env bash
# Runs the test command with a deadline (TEST_DEADLINE_SECONDS, default 900; a normal run takes
# 1-2 min). A run that hangs fails at the deadline, naming the tests still running and printing
# the test process's thread stacks, instead of holding CI until its own limit with no clue.
set -uo pipefail
limit=${TEST_DEADLINE_SECONDS:-900}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

descendants() {
  for child in $(pgrep -P "$1"); do echo "$child"; descendants "$child"; done
}

"$@" > >(tee "$log") 2>&1 &
pid=$!
start=$SECONDS
while kill -0 "$pid" 2>/dev/null; do
  if (( SECONDS - start > limit )); then
    echo "with-deadline: the test run passed its ${limit} s deadline; tests still running:"
    awk '/^◇ Test [^ ]+ started\./ { started[$3] = 1 }
         /^(✔|✘) Test [^ ]+ (passed|failed)/ { delete started[$3] }
         END { for (t in started) print "  " t }' "$log"
    # The test bundle runs under `swift test`: its threads say where it waits.
    tree=$(descendants "$pid")
    for p in $tree; do
      [[ $(cat "/proc/$p/cmdline" 2>/dev/null | tr '\0' ' ') == *PackageTests.xctest* ]] || continue
      if command -v gdb >/dev/null; then
        echo "with-deadline: thread stacks of process $p:"
        gdb -p "$p" -batch -ex 'thread apply all bt' 2>/dev/null | grep -E '^(Thread|#)'
      fi
    done
    kill -KILL $tree "$pid" 2>/dev/null
    wait "$pid"
    exit 124
  fi
  sleep 2
done
wait "$pid"
