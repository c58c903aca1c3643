#!/usr/bin/env bash
# Soak: a long open-model run (constant arrival rate against the demo
# target, run as its own process) streaming into all three network outputs
# at once — Prometheus remote-write (real Prometheus 2.42), OTLP/HTTP (rotel)
# and InfluxDB (real InfluxDB 1.6, mode=aggregate: per-request points at
# this rate for an hour would be tens of millions of points, a test of
# InfluxDB rather than of stampede) — while stampede's resident memory is
# sampled every 10 s. At the end it checks that nothing was lost: every
# output reports 0 points dropped, Prometheus holds exactly the summary's
# request count, InfluxDB's aggregate points add up to it too.
# Everything on 127.0.0.1.
#
#   bench/soak.sh [RATE] [DURATION]        (defaults: 2000 1h)
#
# Writes bench/results/soak-<UTC time>.md (the table below) and the RSS
# samples beside it (.csv).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
rate="${1:-2000}"
duration="${2:-1h}"

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
bin=$(stampede_bin "$work")
start_output_backends "$work"

testid="soak-$(date -u +%Y%m%dT%H%M%SZ)"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p bench/results
rss_csv="bench/results/soak-$stamp.csv"
report="bench/results/soak-$stamp.md"

"$bin" run --quiet --url "http://127.0.0.1:$demo_port/health" \
  --rate "$rate" --duration "$duration" --vus 200 --testid "$testid" \
  --summary-export "$work/summary.json" \
  --out "prometheus-rw=http://127.0.0.1:$prom_port/api/v1/write" \
  --out "otlp=http://127.0.0.1:$otlp_http/v1/metrics" \
  --out "influxdb=http://127.0.0.1:$influx_port/stampede;mode=aggregate" \
  >"$work/run.log" 2>&1 &
run_pid=$!

# Resident memory every 10 s while the run lasts.
echo "seconds,rss_kb" > "$rss_csv"
start=$(date +%s)
while kill -0 "$run_pid" 2>/dev/null; do
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$run_pid/status" 2>/dev/null || true)
  [ -n "$rss" ] && echo "$(( $(date +%s) - start )),$rss" >> "$rss_csv"
  sleep 10
done
wait "$run_pid" || true

prom_count=$(curl -s "http://127.0.0.1:$prom_port/api/v1/query" \
  --data-urlencode "query=sum(last_over_time(stampede_http_reqs_total{testid=\"$testid\"}[3h]))" |
  python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")')
influx_count=$(curl -s "http://127.0.0.1:$influx_port/query" --data-urlencode "db=stampede" \
  --data-urlencode "q=SELECT sum(\"value\") FROM \"http_reqs\" WHERE \"testid\" = '$testid'" |
  python3 -c 'import json,sys; s=json.load(sys.stdin)["results"][0].get("series"); print(s[0]["values"][0][1] if s else "none")')

python3 - "$work/summary.json" "$rss_csv" "$rate" "$duration" "$prom_count" "$influx_count" "$(machine_info)" > "$report" <<'PY'
import csv, json, statistics, sys
summary, rss_csv, rate, duration, prom, influx, machine = sys.argv[1:8]
s = json.load(open(summary))
count = s["metrics"]["http_reqs"]["count"]
rows = [(int(r["seconds"]), int(r["rss_kb"])) for r in csv.DictReader(open(rss_csv))]
span = rows[-1][0] if rows else 0
window = max(60, span // 12)  # first and last twelfth of the run, at least a minute
first = [kb for t, kb in rows if 60 <= t <= 60 + window] or [rows[0][1]]
last = [kb for t, kb in rows if t >= span - window] or [rows[-1][1]]
mb = lambda kb: kb / 1024
print(f"# Soak: {rate} requests/s for {duration}, all three network outputs\n")
print(f"{machine}\n")
print(f"Command: `bench/soak.sh {rate} {duration}`\n")
print("| figure | value |\n|---|---|")
print(f"| requests | {count} ({s['metrics']['http_reqs']['rate']:.1f}/s) |")
print(f"| failed requests | {s['metrics']['http_req_failed']['passes']} |")
print(f"| dropped iterations | {s['metrics'].get('dropped_iterations', {}).get('count', 0)} |")
print(f"| RSS, median of the first {window} s after the first minute | {mb(statistics.median(first)):.1f} MB |")
print(f"| RSS, median of the last {window} s | {mb(statistics.median(last)):.1f} MB |")
print(f"| RSS, max over {len(rows)} samples | {mb(max(kb for _, kb in rows)):.1f} MB |")
for o in s.get("outputs", []):
    p = o.get("points") or {}
    print(f"| {o['name']} | sent {p.get('sent', 0)}, retried {p.get('retried', 0)}, dropped {p.get('dropped', 0)}, snapshots dropped {o['snapshots_dropped']}, errors {len(o['errors'])} |")
print(f"| Prometheus `sum(last_over_time(stampede_http_reqs_total))` | {prom} (summary: {count}) |")
print(f"| InfluxDB `sum(value)` of http_reqs aggregate points | {influx} (summary: {count}) |")
lost = any((o.get("points") or {}).get("dropped", 0) for o in s.get("outputs", []))
ok = (not lost) and prom not in ("none",) and float(prom) == count and influx != "none" and float(influx) == count
print(f"\nVerdict: {'no loss' if ok else 'LOSS OR MISMATCH'}; RSS growth last vs first window: "
      f"{mb(statistics.median(last) - statistics.median(first)):+.1f} MB")
PY
cat "$report"
echo "RSS samples: $rss_csv"
