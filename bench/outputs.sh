#!/usr/bin/env bash
# Cost of the live outputs: the same open-model load (constant arrival rate
# against the demo target) with no outputs and with all of them at once —
# Prometheus remote-write (real Prometheus 2.42), OTLP/HTTP (rotel), InfluxDB
# per-request points (real InfluxDB 1.6) and a JSON-lines file — in
# alternating rounds (none, all, none, all, ...). Prints requests/s per
# round, the ratio of the medians, and per output the points sent, retried
# and dropped and the points/s delivered. Everything on 127.0.0.1.
#
#   bench/outputs.sh [RATE] [DURATION] [ROUNDS]     (defaults: 20000 30s 3)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
rate="${1:-20000}"
duration="${2:-30s}"
rounds="${3:-3}"

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
bin=$(stampede_bin "$work")
start_output_backends "$work"

outputs=(
  --out "prometheus-rw=http://127.0.0.1:$prom_port/api/v1/write;push_interval=5s"
  --out "otlp=http://127.0.0.1:$otlp_http/v1/metrics;push_interval=5s"
  --out "influxdb=http://127.0.0.1:$influx_port/stampede;push_interval=1s"
  --out "json=$work/samples.json.gz"
)

run_case() { # name round
  local extra=()
  [ "$1" = all ] && extra=("${outputs[@]}")
  "$bin" run --quiet --url "http://127.0.0.1:$demo_port/health" \
    --rate "$rate" --duration "$duration" --vus 200 --testid "bench-$1-$2" \
    --summary-export "$work/$1-$2.json" "${extra[@]}" >/dev/null || true
  rm -f "$work/samples.json.gz"
}

for r in $(seq "$rounds"); do
  echo "round $r/$rounds: no outputs"; run_case none "$r"
  echo "round $r/$rounds: all outputs"; run_case all "$r"
done

python3 - "$work" "$rounds" "$rate" "$duration" <<'PY'
import json, statistics, sys
work, rounds, rate, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
def load(case, r):
    return json.load(open(f"{work}/{case}-{r}.json"))
rows = {"none": [], "all": []}
print(f"\ntarget {rate:g} requests/s for {duration}, {rounds} rounds, alternating")
print(f"{'round':>5} {'case':>5} {'req/s':>9} {'requests':>9} {'dropped it.':>11}")
for r in range(1, rounds + 1):
    for case in ("none", "all"):
        s = load(case, r)
        m = s["metrics"]
        secs = s["state"]["testRunDurationMs"] / 1000 if "state" in s else None
        reqs = m["http_reqs"]["count"]
        per_s = m["http_reqs"]["rate"]
        rows[case].append(per_s)
        dropped = m.get("dropped_iterations", {}).get("count", 0)
        print(f"{r:>5} {case:>5} {per_s:>9.0f} {reqs:>9} {dropped:>11}")
none, all_ = statistics.median(rows["none"]), statistics.median(rows["all"])
print(f"\nmedian req/s: no outputs {none:.0f}, all outputs {all_:.0f}, ratio {all_ / none:.3f}")
print("\nper output (each round with outputs):")
for r in range(1, rounds + 1):
    s = load("all", r)
    secs = s["metrics"]["http_reqs"]["count"] / s["metrics"]["http_reqs"]["rate"]
    for o in s.get("outputs", []):
        p = o.get("points") or {}
        sent = p.get("sent", 0)
        print(f"  round {r} {o['name']}: sent {sent}, retried {p.get('retried', 0)}, "
              f"dropped {p.get('dropped', 0)}, snapshots dropped {o['snapshots_dropped']}, "
              f"{sent / secs:.0f} points/s" + (f", errors: {o['errors'][:2]}" if o["errors"] else ""))
PY
