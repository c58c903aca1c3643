#!/usr/bin/env bash
# Before/after for the request hot path: wrk and two or more stampede binaries
# in alternating rounds against nginx (one worker on CPU 0, generators on
# CPU 1, 50 connections), each stampede running bench/scenarios/nginx-check.yaml
# (one check per request). Per run: requests/s, the generator's user and
# system CPU per request (/usr/bin/time) and nginx's CPU per request (its
# worker's utime + stime from /proc): when nginx's core is the limit, a
# generator that makes nginx work harder per request gets fewer requests/s
# even at equal cost of its own.
#
#   bench/ab.sh DURATION ROUNDS NAME=BINARY [NAME=BINARY ...]
#   e.g. bench/ab.sh 8s 3 before=/tmp/stampede-old after=target/release/stampede
#
# WRK_SAME_HEADERS=1 adds a round member `wrk+headers`: wrk sending the two
# headers stampede sends by default (user-agent, accept-encoding), to tell
# nginx's cost of parsing them apart from the generators' own cost.
#
# Writes the rows and per-tool medians to bench/results/ab-<time>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
[ $# -ge 3 ] || { sed -n '2,17p' "$0" >&2; exit 2; }
duration=$1; rounds=$2; shift 2
secs=${duration%s}
need_time
apt_need wrk wrk
work=$(mktemp -d)
trap 'stop_nginx; rm -rf "$work"' EXIT
start_nginx "$work"
url="http://127.0.0.1:$NGINX_PORT/"
worker=$(pgrep -P "$NGINX_PID" | head -1)

# nginx_ticks: the worker's user + system CPU so far, in clock ticks.
nginx_ticks() { awk '{print $14 + $15}' "/proc/$worker/stat"; }
hz=$(getconf CLK_TCK)

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="bench/results/ab-$stamp.txt"
{
  echo "# bench/ab.sh $duration $rounds $*"
  echo "# $(machine_info); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# nginx 1 worker on CPU 0, generators on CPU 1, 50 connections; stampede runs bench/scenarios/nginx-check.yaml"
  echo "# columns: round tool requests/s generator-user-us/req generator-sys-us/req nginx-cpu-us/req"
} >"$out"
members=(wrk)
[ -n "${WRK_SAME_HEADERS:-}" ] && members+=(wrk+headers)
for round in $(seq "$rounds"); do
  for t in "${members[@]}" "$@"; do
    name=${t%%=*}
    before=$(nginx_ticks)
    if [ "${t%+headers}" = wrk ]; then
      extra=()
      [ "$t" = wrk+headers ] && extra=(-H "user-agent: stampede/0.1.0" -H "accept-encoding: gzip, deflate")
      taskset -c 1 /usr/bin/time -f '%U %S' -o "$work/time" wrk -t1 -c50 -d"$duration" "${extra[@]}" "$url" >"$work/out" 2>&1
      reqs=$(awk '/requests in/ {print $1}' "$work/out")
    else
      taskset -c 1 /usr/bin/time -f '%U %S' -o "$work/time" "${t#*=}" run --quiet --no-color \
        --summary-export "$work/s.json" bench/scenarios/nginx-check.yaml \
        --env "BASE_URL=http://127.0.0.1:$NGINX_PORT" --vus 50 --duration "$duration" >"$work/out" 2>&1
      reqs=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metrics"]["http_reqs"]["count"])' "$work/s.json")
    fi
    after=$(nginx_ticks)
    read -r user sys <"$work/time"
    python3 - "$round" "$name" "$reqs" "$secs" "$user" "$sys" "$before" "$after" "$hz" <<'PY' | tee -a "$out"
import sys
r, name, reqs, secs, user, sys_, before, after, hz = sys.argv[1:]
n = int(reqs)
print(f"{r} {name} {n / float(secs):.0f} {float(user) * 1e6 / n:.2f} {float(sys_) * 1e6 / n:.2f} "
      f"{(int(after) - int(before)) / int(hz) * 1e6 / n:.2f}")
PY
  done
done
python3 - "$out" <<'PY' | tee -a "$out"
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l[0].isdigit()]
tools = list(dict.fromkeys(r[1] for r in rows))
med = {t: [statistics.median(float(r[i]) for r in rows if r[1] == t) for i in range(2, 6)] for t in tools}
print("# medians: tool requests/s (x wrk) user-us/req sys-us/req nginx-us/req")
for t in tools:
    m = med[t]
    print(f"# {t} {m[0]:.0f} ({m[0] / med['wrk'][0]:.2f}x) {m[1]:.2f} {m[2]:.2f} {m[3]:.2f}")
PY
echo "written: $out" >&2
