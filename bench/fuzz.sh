#!/usr/bin/env bash
# Runs the property tests of tests/fuzz_parsers.rs as a fuzzer: each target
# (threshold, template, scenario, sse, influx, remote_write; one module each)
# gets CASES_PER_TARGET cases per round, shared out among its properties,
# and rounds repeat with fresh random inputs until SECONDS have passed.
#
#   bench/fuzz.sh [CASES_PER_TARGET] [SECONDS]     (defaults: 250000 0)
#   SECONDS=0 runs one round. FUZZ_PROFILE=dev uses the debug build
#   (default release: a one-time build, then each case runs many times faster).
#   FUZZ_TARGET_TIMEOUT (default 3600 s) ends a target that hangs; it is
#   reported as HANG.
#
# Prints per target and round: properties, cases, wall time, peak RSS of the
# test process, result (a failed target's cases count as 0); then the
# totals. Exit status 1 if any target failed.
#
# Reproducers: proptest shrinks a failing case, prints it, and appends its
# seed to tests/proptest-regressions/<target>.txt. Every later run of that
# target replays the file's seeds before new cases, so
#   cargo test --test fuzz_parsers <target>::
# replays them (it is what `cargo test` does too). Turn the printed minimal
# input into a unit test beside the code, fix, and commit the file.
set -euo pipefail
cd "$(dirname "$0")/.."

cases_per_target=${1:-250000}
seconds=${2:-0}
profile=${FUZZ_PROFILE:-release}
target_timeout=${FUZZ_TARGET_TIMEOUT:-3600}
targets=(threshold template scenario sse influx remote_write)

profile_flag=()
[ "$profile" = release ] && profile_flag=(--release)
bin=$(cargo test "${profile_flag[@]}" --locked --test fuzz_parsers --no-run 2>&1 |
  sed -n 's/.*Executable tests\/fuzz_parsers.rs (\(.*\))/\1/p' | tail -1)
[ -x "$bin" ] || { echo "fuzz: the test binary did not build" >&2; exit 2; }

logs=${CARGO_TARGET_DIR:-target}/fuzz-logs
mkdir -p "$logs"
rss_log=$(mktemp)
trap 'rm -f "$rss_log"' EXIT
# Peak RSS from GNU time when installed; the run does not depend on it.
measure=()
[ -x /usr/bin/time ] && measure=(/usr/bin/time -o "$rss_log" -f '%M')
now() { date +%s.%N; }
add() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }
start=$(date +%s)
failed=0
round=0
declare -A total_cases total_secs
printf '%-6s %-13s %5s %10s %9s %9s  %s\n' round target props cases seconds rss_kb result
while :; do
  round=$((round + 1))
  for target in "${targets[@]}"; do
    props=$("$bin" --list "$target::" 2>/dev/null | grep -c ': test$')
    per_prop=$(( (cases_per_target + props - 1) / props ))
    t0=$(now)
    status=0
    echo '?' >"$rss_log"
    PROPTEST_CASES=$per_prop timeout "$target_timeout" \
      "${measure[@]}" "$bin" --quiet "$target::" >"$logs/$target.log" 2>&1 ||
      status=$?
    secs=$(add "$(now)" "-$t0")
    rss=$(tail -1 "$rss_log")
    cases=$((per_prop * props))
    case $status in
      0) result=ok ;;
      124) result="HANG (over ${target_timeout}s)"; failed=1 ;;
      *) result="FAILED (exit $status; see $logs/$target.log)"; failed=1 ;;
    esac
    # A failed or hung target stopped early; its cases are not counted as run.
    [ "$status" = 0 ] || cases=0
    total_cases[$target]=$(( ${total_cases[$target]:-0} + cases ))
    total_secs[$target]=$(add "${total_secs[$target]:-0}" "$secs")
    printf '%-6s %-13s %5s %10s %9.1f %9s  %s\n' "$round" "$target" "$props" "$cases" "$secs" "$rss" "$result"
  done
  [ $failed = 0 ] && [ $(( $(date +%s) - start )) -lt "$seconds" ] || break
done

all=0
echo
printf '%-13s %12s %10s\n' target cases seconds
for target in "${targets[@]}"; do
  printf '%-13s %12s %10.1f\n' "$target" "${total_cases[$target]}" "${total_secs[$target]}"
  all=$((all + total_cases[$target]))
done
echo "total: $all cases in $round round(s), $(( $(date +%s) - start )) s wall ($profile build), failures: $failed"
exit $failed
