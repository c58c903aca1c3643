#!/usr/bin/env bash
# Open-model accuracy of stampede against its own demo target on loopback:
#  1. rate: --rate R for D (default 20000/s for 30s): iterations started vs
#     the R x D the schedule asks for, dropped iterations, scheduling lag;
#  2. jitter: 1 iteration/s for 10 s: how far each start is from its
#     scheduled instant (iteration_scheduling_lag).
# The demo target runs on CPU 0 and stampede on CPU 1 when there are two.
#
#   bench/arrival-rate.sh [RATE] [DURATION]      (defaults: 20000, 30s)
set -euo pipefail
cd "$(dirname "$0")/.."
rate="${1:-20000}"
duration="${2:-30s}"

work=$(mktemp -d)
# The binary cargo built for this checkout (in a shared target directory the
# uplifted release/stampede may come from another one), copied at once.
exe=$(cargo build --release --quiet --message-format=json | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and "bin" in m["target"]["kind"]:
        print(m["executable"])')
cp "$exe" "$work/stampede"
bin="$work/stampede"
pin_demo=(); pin_run=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_demo=(taskset -c 0); pin_run=(taskset -c 1)
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${pin_demo[@]}" "$bin" demo --listen "127.0.0.1:$port" >/dev/null 2>&1 &
demo_pid=$!
trap 'kill $demo_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done

report() { # summary file, target rate, duration
  python3 - "$@" <<'PY'
import json, re, sys
m = json.load(open(sys.argv[1]))["metrics"]
rate = float(sys.argv[2]); text = sys.argv[3]
unit = {"ms": 0.001, "s": 1, "m": 60}[re.match(r"[\d.]+(ms|s|m)$", text).group(1)]
seconds = float(re.match(r"[\d.]+", text).group(0)) * unit
want = rate * seconds
done = m["iterations"]["count"]
dropped = m.get("dropped_iterations", {}).get("count", 0)
lag = m["iteration_scheduling_lag"]
print(f"target {rate:g}/s for {text}: {want:.0f} starts scheduled")
print(f"  completed iterations {done}  ({done / want * 100:.2f}% of scheduled, {done / seconds:.0f}/s)")
print(f"  dropped iterations   {dropped}")
print(f"  scheduling lag (ms)  avg={lag['avg']:.3f} med={lag['med']:.3f} p(95)={lag['p(95)']:.3f} p(99)={lag['p(99)']:.3f} max={lag['max']:.3f}")
print(f"  http_req_duration    p(99)={m['http_req_duration']['p(99)']:.3f} ms")
PY
}

echo "== rate accuracy"
"${pin_run[@]}" "$bin" run --quiet --url "http://127.0.0.1:$port/health" \
  --rate "$rate" --duration "$duration" --vus 200 \
  --summary-export "$work/rate.json" >/dev/null || true
report "$work/rate.json" "$rate" "$duration"

echo "== start jitter at 1/s"
"${pin_run[@]}" "$bin" run --quiet --url "http://127.0.0.1:$port/health" \
  --rate 1 --duration 10s --vus 1 \
  --summary-export "$work/jitter.json" >/dev/null || true
report "$work/jitter.json" 1 10s
