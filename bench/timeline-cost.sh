#!/usr/bin/env bash
# What the per-interval timeline costs: the quick start's API mix against
# the demo target, 50 VUs, no think time, in alternating rounds with the
# timeline (the default) and without it (--no-timeline, hidden, for this
# measurement only). The demo runs on CPU 0, stampede on CPU 1. Reports
# requests/s, peak RSS, CPU time per request (user + system, from
# /usr/bin/time) and the summary export's size, then the medians.
#
#   bench/timeline-cost.sh [DURATION] [ROUNDS] [TARGET]   (defaults: 20s, 4, demo)
#
# TARGET nginx runs bench/scenarios/nginx-check.yaml (one GET with a check,
# 50 VUs) against nginx instead: one endpoint at the highest request rate.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
duration="${1:-20s}"
rounds="${2:-4}"
target="${3:-demo}"

need_time
work=$(mktemp -d)
bin=$(stampede_bin "$work")
if [ "$target" = nginx ]; then
  start_nginx "$work"
  trap 'stop_nginx' EXIT
  port=$NGINX_PORT
  scenario=bench/scenarios/nginx-check.yaml
  label="one GET with a check against nginx"
else
  port=$(free_port)
  taskset -c 0 "$bin" demo --listen "127.0.0.1:$port" >/dev/null 2>&1 &
  demo_pid=$!
  trap 'kill $demo_pid 2>/dev/null || true' EXIT
  wait_http "http://127.0.0.1:$port/health"
  scenario=bench/scenarios/api-mix.yaml
  label="API mix on the demo target"
fi

run_case() { # name, then extra stampede arguments
  local name=$1; shift
  taskset -c 1 /usr/bin/time -v "$bin" run --quiet "$scenario" \
    --env "BASE_URL=http://127.0.0.1:$port" --vus 50 --duration "$duration" \
    --summary-export "$work/$name.json" "$@" >"$work/$name.out" 2>"$work/$name.time" || true
  python3 - "$work/$name.json" "$work/$name.time" "$name" <<'PY'
import json, os, re, sys
summary = json.load(open(sys.argv[1]))
t = open(sys.argv[2]).read()
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
cpu_s = float(re.search(r"User time \(seconds\): ([\d.]+)", t).group(1)) + float(re.search(r"System time \(seconds\): ([\d.]+)", t).group(1))
reqs = summary["metrics"]["http_reqs"]["count"]
print(f'{sys.argv[3]}\t{summary["metrics"]["http_reqs"]["rate"]:.0f}\t{rss_kb/1024:.1f}\t{cpu_s/reqs*1e6:.2f}\t{os.path.getsize(sys.argv[1])}\t{len(summary.get("timeline", {}).get("buckets", []))}')
PY
}

results="$work/results.tsv"
for _ in $(seq "$rounds"); do
  run_case with | tee -a "$results"
  run_case without --no-timeline | tee -a "$results"
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="bench/results/timeline-cost-$stamp.md"
python3 - "$results" "$out" "$duration" "$rounds" "$(machine_info); load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)" "$label" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
lines = [f"# Timeline cost: {sys.argv[6]}, 50 VUs, {sys.argv[3]} x {sys.argv[4]} alternating rounds",
         "", sys.argv[5], "",
         "| case | median req/s | median peak RSS (MB) | median CPU µs/request | export bytes | buckets | rounds (req/s) |",
         "|---|---|---|---|---|---|---|"]
for case in ("with", "without"):
    r = [x for x in rows if x[0] == case]
    med = lambda i: statistics.median(float(x[i]) for x in r)
    lines.append(f"| {case} timeline | {med(1):.0f} | {med(2):.1f} | {med(3):.2f} | {med(4):.0f} | {med(5):.0f} | {', '.join(x[1] for x in r)} |")
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "written: $out"
