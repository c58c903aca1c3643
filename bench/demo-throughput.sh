#!/usr/bin/env bash
# Throughput and memory of stampede against its own demo target on loopback:
# the quick start's API mix (scenario file, checks on every request) and an
# ad-hoc single-URL run, 50 VUs, no think time. The demo target runs on CPU 0
# and stampede on CPU 1 so they do not compete for a core.
#
#   bench/demo-throughput.sh [DURATION] [ROUNDS]      (defaults: 10s, 3)
#
# Prints requests/s and peak RSS per round and the medians, and writes a
# markdown table to bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10s}"
rounds="${2:-3}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if [ ! -x /usr/bin/time ]; then
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time
fi
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/stampede"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
taskset -c 0 "$bin" demo --listen "127.0.0.1:$port" >/dev/null 2>&1 &
demo_pid=$!
trap 'kill $demo_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done

work=$(mktemp -d)
run_case() { # name, then stampede arguments
  local name=$1; shift
  taskset -c 1 /usr/bin/time -v "$bin" run --quiet --summary-export "$work/$name.json" "$@" \
    >"$work/$name.out" 2>"$work/$name.time" || true
  python3 - "$work/$name.json" "$work/$name.time" "$name" <<'PY'
import json, re, sys
summary = json.load(open(sys.argv[1]))
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(sys.argv[2]).read()).group(1))
m = summary["metrics"]
print(f'{sys.argv[3]}\t{m["http_reqs"]["rate"]:.0f}\t{rss_kb/1024:.1f}\t{m["http_reqs"]["count"]}\t{m["http_req_duration"]["p(99)"]:.2f}')
PY
}

results="$work/results.tsv"
for round in $(seq "$rounds"); do
  run_case scenario bench/scenarios/api-mix.yaml --env "BASE_URL=http://127.0.0.1:$port" --duration "$duration" --vus 50 | tee -a "$results"
  run_case adhoc --url "http://127.0.0.1:$port/health" --vus 50 --duration "$duration" | tee -a "$results"
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="bench/results/demo-throughput-$stamp.md"
python3 - "$results" "$out" "$duration" "$rounds" <<'PY'
import statistics, sys, platform, os, subprocess
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
lines = [f"# stampede vs its demo target, {sys.argv[3]} x {sys.argv[4]} rounds, 50 VUs",
         "", f"Machine: {os.cpu_count()} cores ({cpu}), {platform.platform()}", "",
         "| case | median req/s | median peak RSS (MB) | rounds (req/s) | p99 (ms, median) |", "|---|---|---|---|---|"]
for case in ("scenario", "adhoc"):
    r = [x for x in rows if x[0] == case]
    rps = [float(x[1]) for x in r]; rss = [float(x[2]) for x in r]; p99 = [float(x[4]) for x in r]
    lines.append(f"| {case} | {statistics.median(rps):.0f} | {statistics.median(rss):.1f} | {', '.join(f'{v:.0f}' for v in rps)} | {statistics.median(p99):.2f} |")
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "written: $out"
