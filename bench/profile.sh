#!/usr/bin/env bash
# Where stampede's time per request goes: an ad-hoc run against nginx (one
# worker, CPU 0; stampede on CPU 1), profiled with perf (cpu-clock sampling,
# DWARF call graphs) or with valgrind's callgrind (exact instruction counts,
# much slower: keep the run short). Writes the top functions, self and
# inclusive, to bench/results/profile-<tool>-*.txt.
#
#   bench/profile.sh perf [DURATION] [VUS] [MODE]        (defaults: 10s 50 adhoc)
#   bench/profile.sh callgrind [DURATION] [VUS] [MODE]   (defaults: 6s 10 adhoc; start-up and
#       the summary export cost about as much as 300 requests, so short runs overweight them)
#   bench/profile.sh perf-user [DURATION] [VUS] [MODE]   (defaults: 10s 50 adhoc; user-space
#       samples only, 5 kHz, no call graphs: the run is barely slowed, so shares are those of a
#       real run; with the load average, to compare two binaries in alternating runs)
# MODE is `adhoc` (--url), `scenario` (bench/scenarios/nginx-check.yaml: one
# check per request, what compare.sh's stampede-scenario runs) or `close`
# (bench/scenarios/h1-loop.yaml with `Connection: close`: a new connection per
# request, what protocols.sh's http-close runs).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
tool="${1:-perf}"
work=$(mktemp -d)
trap 'stop_nginx; if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi' EXIT
STAMPEDE=$(stampede_bin "$work")
start_nginx "$work"
url="http://127.0.0.1:$NGINX_PORT/"
mode="${4:-adhoc}"
# what_to_run VUS DURATION: the stampede arguments after `run` for MODE.
what_to_run() {
  case $mode in
    adhoc) echo "--url $url --vus $1 --duration $2" ;;
    scenario) echo "bench/scenarios/nginx-check.yaml --env BASE_URL=http://127.0.0.1:$NGINX_PORT --vus $1 --duration $2" ;;
    close) echo "bench/scenarios/h1-loop.yaml --env BASE_URL=http://127.0.0.1:$NGINX_PORT --env CONNECTION=close --vus $1 --duration $2" ;;
    *) echo "unknown mode: $mode (adhoc, scenario or close)" >&2; exit 2 ;;
  esac
}
requests() { # SUMMARY.json NOTE
  python3 - "$1" "$2" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]["http_reqs"]
print("# requests: %d (%.0f/s %s)" % (m["count"], m["rate"], sys.argv[2]))
PY
}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="bench/results/profile-$tool-${4:-adhoc}-$stamp.txt"

case $tool in
  perf)
    duration="${2:-10s}"; vus="${3:-50}"
    apt_need perf linux-perf
    date +%T >&2; taskset -c 1 perf record -q -F 499 --call-graph dwarf,32768 -o "$work/perf.data" -- \
      "$STAMPEDE" run --quiet --no-color --summary-export "$work/s.json" $(what_to_run "$vus" "$duration") >/dev/null 2>&1
    date +%T >&2
    {
      echo "# perf: stampede run $(what_to_run "$vus" "$duration") (CPU 1; nginx 1 worker on CPU 0)"
      requests "$work/s.json" "under perf"
      echo; echo "## self (no children), by symbol"
      perf report -i "$work/perf.data" --no-children --stdio --sort sym -g none --percent-limit 0.7 2>/dev/null | grep -v '^$'
      echo; echo "## inclusive (children), by symbol"
      perf report -i "$work/perf.data" --children --stdio --sort sym -g none --percent-limit 3 2>/dev/null | grep -v '^$'
      echo; echo "## self, by shared object"
      perf report -i "$work/perf.data" --no-children --stdio --sort dso -g none 2>/dev/null | grep -v '^$'
    } >"$out"
    ;;
  perf-user)
    duration="${2:-10s}"; vus="${3:-50}"
    apt_need perf linux-perf
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    taskset -c 1 perf record -q -e cpu-clock:u -F 5000 -o "$work/perf.data" -- \
      "$STAMPEDE" run --quiet --no-color --summary-export "$work/s.json" $(what_to_run "$vus" "$duration") >/dev/null 2>&1
    {
      echo "# perf (user space, cpu-clock:u at 5 kHz): stampede run $(what_to_run "$vus" "$duration") (CPU 1; nginx 1 worker on CPU 0)"
      echo "# binary: $STAMPEDE; load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
      requests "$work/s.json" "under perf"
      perf report -i "$work/perf.data" --stdio --sort sym 2>/dev/null | grep -m1 '^# Samples'
      echo; echo "## self, by symbol (user space)"
      perf report -i "$work/perf.data" --no-children --stdio --sort sym --percent-limit 0.3 2>/dev/null | grep -v '^#' | grep -v '^$'
    } >"$out"
    ;;
  callgrind)
    duration="${2:-6s}"; vus="${3:-10}"
    apt_need valgrind valgrind
    taskset -c 1 valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
      "$STAMPEDE" run --quiet --no-color --summary-export "$work/s.json" $(what_to_run "$vus" "$duration") >/dev/null 2>"$work/vg.log"
    {
      echo "# callgrind: stampede run $(what_to_run "$vus" "$duration")"
      requests "$work/s.json" "under callgrind"
      echo; echo "## inclusive"
      callgrind_annotate --inclusive=yes "$work/cg.out" >"$work/incl.txt" 2>/dev/null
      sed -n '/PROGRAM TOTALS/,$p' "$work/incl.txt" >"$work/incl.top"; head -60 "$work/incl.top"
      echo; echo "## self"
      callgrind_annotate --inclusive=no "$work/cg.out" >"$work/self.txt" 2>/dev/null
      sed -n '/PROGRAM TOTALS/,$p' "$work/self.txt" >"$work/self.top"; head -45 "$work/self.top"
    } >"$out"
    ;;
  *) echo "usage: bench/profile.sh perf|perf-user|callgrind [DURATION] [VUS] [adhoc|scenario|close]" >&2; exit 2 ;;
esac
echo "written: $out" >&2
