#!/usr/bin/env bash
# Memory per idle VU: every VU sends one request and sleeps 1 s, in a loop,
# for DURATION (stampede: bench/scenarios/idle-vus.yaml; k6: bench/k6/idle-vus.js).
# Each tool runs once with 1 VU (baseline) and once with N VUs; KB per VU is
# (peak RSS at N - peak RSS at 1) / (N - 1). stampede also runs at
# BIG VUs (default 50,000) to show whether it runs and what it costs.
#
#   bench/memory.sh [VUS] [DURATION] [BIG]      (defaults: 10000 10s 50000)
#   KEEP=1 keeps the temp dir with every run's output.
#
# Target: nginx with one worker on CPU 0 (worker_connections 100000,
# worker_rlimit_nofile 200000); generators on CPU 1. The script raises
# `ulimit -n` to the hard limit, and for BIG > 28,000 connections to one
# address it widens net.ipv4.ip_local_port_range (root) and restores it on
# exit. Each VU keeps one connection, so BIG VUs need BIG open files: when the
# hard limit is lower, the BIG run with requests is still attempted (its exit
# code and errors are reported) and a second BIG run uses
# bench/scenarios/idle-vus-sleep-only.yaml (no sockets) to show what the VUs
# themselves cost, and a third sends the same requests with `connection:
# close` (bench/scenarios/idle-vus-close.yaml): a socket only while a request
# is in flight, so BIG VUs with real requests fit under the limit.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
vus="${1:-10000}"
duration="${2:-10s}"
big="${3:-50000}"

need_time
work=$(mktemp -d)
old_range=$(sysctl -n net.ipv4.ip_local_port_range | tr -s '\t ' ' ')
cleanup() {
  stop_nginx
  [ "$(sysctl -n net.ipv4.ip_local_port_range | tr -s '\t ' ' ')" = "$old_range" ] ||
    as_root sysctl -q -w net.ipv4.ip_local_port_range="$old_range" || true
  if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
STAMPEDE=$(stampede_bin "$work")
K6=$(k6_bin)
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=1048576
ulimit -n "$nofile"
start_nginx "$work"
base="http://127.0.0.1:$NGINX_PORT"

# run_case TOOL VUS: prints "tool<TAB>vus<TAB>peak RSS KB<TAB>requests<TAB>exit code"
run_case() {
  local t=$1 n=$2 out="$work/$1.$2" rc=0
  local -a cmd
  case $t in
    k6) cmd=("$K6" run --quiet --no-color --summary-export "$out.json" --vus "$n" --duration "$duration"
             -e "BASE_URL=$base" bench/k6/idle-vus.js) ;;
    stampede) cmd=("$STAMPEDE" run --quiet --no-color --summary-export "$out.json"
             bench/scenarios/idle-vus.yaml --env "BASE_URL=$base" --vus "$n" --duration "$duration") ;;
    stampede-sleep-only) cmd=("$STAMPEDE" run --quiet --no-color --summary-export "$out.json"
             bench/scenarios/idle-vus-sleep-only.yaml --vus "$n" --duration "$duration") ;;
    stampede-close) cmd=("$STAMPEDE" run --quiet --no-color --summary-export "$out.json"
             bench/scenarios/idle-vus-close.yaml --env "BASE_URL=$base" --vus "$n" --duration "$duration") ;;
  esac
  taskset -c 1 /usr/bin/time -v "${cmd[@]}" >"$out.out" 2>"$out.time" || rc=$?
  local rss reqs
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out.time")
  reqs=$(python3 - "$out.json" <<'PY'
import json, sys
try:
    m = json.load(open(sys.argv[1]))["metrics"]
    print(f'{m["http_reqs"]["count"]} ({100 * m["http_req_failed"]["value"]:.1f}% failed)')
except Exception:
    print("-")
PY
)
  printf '%s\t%s\t%s\t%s\t%s\n' "$t" "$n" "$rss" "$reqs" "$rc"
  if [ "$rc" != 0 ]; then tail -5 "$out.out" "$out.time" >&2; fi
}

results="$work/results.tsv"
for t in stampede k6; do
  run_case "$t" 1 | tee -a "$results"
  run_case "$t" "$vus" | tee -a "$results"
done
if [ "$big" -gt 28000 ]; then
  as_root sysctl -q -w net.ipv4.ip_local_port_range="1024 65535"
fi
run_case stampede "$big" | tee -a "$results"
if [ "$big" -ge "$nofile" ]; then
  run_case stampede-sleep-only 1 | tee -a "$results"
  run_case stampede-sleep-only "$big" | tee -a "$results"
  run_case stampede-close 1 | tee -a "$results"
  run_case stampede-close "$big" | tee -a "$results"
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="bench/results/memory-$stamp.md"
python3 - "$results" "$out" "$vus" "$duration" "$big" "$(machine_info); open-file hard limit $nofile" \
  "$("$STAMPEDE" --version) ($(git rev-parse --short HEAD)); k6 $("$K6" version | head -1 | awk '{print $2}'); nginx $(nginx -v 2>&1 | sed 's/.*version: //')" <<'PY'
import sys
res, out, vus, duration, big, machine, versions = sys.argv[1:8]
rows = {(r[0], int(r[1])): r for r in (l.split("\t") for l in open(res).read().splitlines() if l)}
def kb(t, n): return int(rows[(t, n)][2])
lines = [f"# Memory per idle VU: one request then sleep(1) per iteration, {duration}", "", machine, "",
         f"Versions: {versions}", "",
         "Target: nginx, 1 worker on CPU 0; generator on CPU 1. KB/VU = (peak RSS at N VUs - peak RSS at 1 VU) / (N - 1).", "",
         "| tool | VUs | peak RSS (MB) | requests (failed) | exit code | KB per VU above 1-VU baseline |", "|---|---|---|---|---|---|"]
per = {}
for (t, n), r in rows.items():
    extra = "baseline" if n == 1 else f"{(kb(t, n) - kb(t, 1)) / (n - 1):.1f}"
    if n == int(vus): per[t] = (kb(t, n) - kb(t, 1)) / (n - 1)
    if n == int(big) and t == "stampede" and (t, int(vus)) in rows and int(vus) > 1:
        extra += f" ({(kb(t, n) - kb(t, int(vus))) / (n - int(vus)):.1f} between {vus} and {big} VUs)"
    lines.append(f"| {t} | {n} | {int(r[2]) / 1024:.1f} | {r[3]} | {r[4]} | {extra} |")
if "stampede" in per and "k6" in per and per["stampede"] > 0:
    lines += ["", f"At {vus} VUs k6 needs {per['k6'] / per['stampede']:.1f}x the memory per VU that stampede needs."]
lines += ["", "stampede-sleep-only: the same VUs without the request (no sockets); used when BIG exceeds the open-file limit.",
          "stampede-close: the same VUs and requests with `connection: close` (a socket only while a request is in flight); used when BIG exceeds the open-file limit.",
          "", f"Command: `bench/memory.sh {vus} {duration} {big}`"]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "written: $out" >&2
