#!/usr/bin/env bash
# Scale of connections (issue 19, item 4):
#
#   http       VUS VUs, each holding a keep-alive connection and sending one
#              request a second, against nginx on PORTS listeners (one
#              worker, CPU 0), so the client ports stay within the
#              ephemeral range (about 28,000 per listener by default, more
#              after the script widens the range).
#   websocket  SESSIONS concurrent WebSocket sessions (`stampede demo`'s
#              /ws, one demo process per listener), each pinging every
#              second for the whole run.
#
#   bench/connections.sh [VUS] [SESSIONS] [DURATION] [PORTS]
#       defaults: 100000 50000 30s 4
#
# Every request is counted on both sides: nginx's own request counter
# (stub_status) before and after the run must grow by exactly the requests
# stampede reports. Reports the generator's peak RSS (target: under 1 GB),
# KB per VU, CPU, requests, failures. Raises the open-file limits
# (`ulimit -n`, fs.nr_open) and the ephemeral port range as root, and
# restores the port range on exit. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
vus="${1:-100000}"
sessions="${2:-50000}"
duration="${3:-30s}"
ports_n="${4:-4}"

need_time
apt_need taskset util-linux
apt_need nginx nginx
work=$(mktemp -d)
old_range=$(sysctl -n net.ipv4.ip_local_port_range | tr -s '\t ' ' ')
demo_pids=()
cleanup() {
  stop_nginx
  for p in "${demo_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ "$(sysctl -n net.ipv4.ip_local_port_range | tr -s '\t ' ' ')" = "$old_range" ] ||
    as_root sysctl -q -w net.ipv4.ip_local_port_range="$old_range" || true
  if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
STAMPEDE=$(stampede_bin "$work")

# Both ends hold one descriptor per connection.
as_root sysctl -q -w fs.nr_open=1100000 || true
# Raising the hard limit needs CAP_SYS_RESOURCE; without it the run is
# bounded by the hard limit, and says so.
ulimit -Hn 1048576 2>/dev/null || echo "note: cannot raise the hard open-file limit above $(ulimit -Hn) (no CAP_SYS_RESOURCE): each process holds at most that many connections" >&2
ulimit -n "$(ulimit -Hn)"
as_root sysctl -q -w net.ipv4.ip_local_port_range="1024 65000"
echo "open files: $(ulimit -n); ports $(sysctl -n net.ipv4.ip_local_port_range | tr -s '\t ' ' ')" >&2

# nginx with PORTS listeners and a status page on the first.
dir=$work/nginx
mkdir -p "$dir"
ports=()
listen=""
for _ in $(seq "$ports_n"); do
  p=$(free_port); ports+=("$p")
  listen+="        listen 127.0.0.1:$p backlog=65535;"$'\n'
done
awk -v listen="$listen" '/listen 127.0.0.1:@PORT@/ { printf "%s", listen; next } { print }' bench/nginx/nginx.conf.in |
  sed -e "s#@PREFIX@#$dir#g" -e 's#worker_connections 100000#worker_connections 400000#' \
      -e 's#worker_rlimit_nofile 200000#worker_rlimit_nofile 1000000#' \
      -e 's#^        location / {#        location = /nginx_status { stub_status; }\n        location / {#' >"$dir/nginx.conf"
(exec taskset -c 0 nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/stdout" 2>&1) &
NGINX_PID=$!
wait_http "http://127.0.0.1:${ports[0]}/"
nginx_requests() { curl -s "http://127.0.0.1:${ports[0]}/nginx_status" | awk 'NR==3 { print $3 }'; }

# Each VU n takes listener (n-1) mod PORTS.
{ echo port; for p in "${ports[@]}"; do echo "$p"; done; } >"$work/ports.csv"
cat >"$work/http.yaml" <<YAML
data:
  target: { file: $work/ports.csv, mode: per-vu }
scenarios:
  held:
    executor: constant-vus
    vus: 1
    duration: 10s
    graceful_stop: 5s
    flow:
      - request: { name: index, url: "http://127.0.0.1:{{ target.port }}/" }
      - sleep: 1s
YAML

# run_case NAME COMMAND...: prints the row's cells from the run's summary.
run_case() {
  local name=$1; shift
  local out="$work/$name"
  taskset -c 1 /usr/bin/time -v "$@" --quiet --no-color --summary-export "$out.json" >"$out.out" 2>"$out.time" || true
  tail -3 "$out.out" >&2
}

results="$work/results.tsv"
if [ "$vus" -gt 0 ]; then
  before=$(nginx_requests)
  run_case http "$STAMPEDE" run "$work/http.yaml" --vus "$vus" --duration "$duration"
  # The status request itself is counted by nginx too.
  after=$(( $(nginx_requests) - 1 ))
  python3 - http "$vus" "$work/http" "$((after - before))" >>"$results" <<'PY'
import json, re, sys
case, n, out, served = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
timing = open(out + ".time").read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1))
cpu = float(re.search(r"User time \(seconds\): ([\d.]+)", timing).group(1)) + float(re.search(r"System time \(seconds\): ([\d.]+)", timing).group(1))
code = re.search(r"Exit status: (\d+)", timing)
m = json.load(open(out + ".json"))["metrics"]
reqs = m["http_reqs"]["count"]
failed = m["http_req_failed"]["passes"]
vus_max = m["vus_max"]["value"] if "vus_max" in m else n
print(f"{case}\t{n}\t{rss/1024:.0f}\t{rss/n:.1f}\t{reqs}\t{failed}\t{served}\t{cpu:.1f}\t{code.group(1) if code else '?'}")
PY
fi

if [ "$sessions" -gt 0 ]; then
  # One demo process per listener, each under ~28,000 sessions and within
  # the open-file limit (a session is one descriptor on each side).
  cap=$(( $(ulimit -n) - 1000 )); [ "$cap" -gt 25000 ] && cap=25000
  per=$(( (sessions + cap - 1) / cap ))
  demo_ports=()
  for _ in $(seq "$per"); do
    p=$(free_port); demo_ports+=("$p")
    (exec taskset -c 0 "$STAMPEDE" demo --listen "127.0.0.1:$p" >/dev/null 2>&1) & demo_pids+=($!)
  done
  for p in "${demo_ports[@]}"; do wait_http "http://127.0.0.1:$p/health"; done
  { echo port; for p in "${demo_ports[@]}"; do echo "$p"; done; } >"$work/demo-ports.csv"
  cat >"$work/ws.yaml" <<YAML
data:
  target: { file: $work/demo-ports.csv, mode: per-vu }
scenarios:
  sessions:
    executor: per-vu-iterations
    vus: 1
    iterations: 1
    max_duration: 10m
    # Each demo process issues its own tokens; the login's connection is
    # closed so that a VU holds only its WebSocket.
    setup:
      - request:
          name: login
          method: POST
          url: "http://127.0.0.1:{{ target.port }}/auth/login"
          headers: { Connection: close }
          json: { email: "vu-{{ __VU }}@example.com", password: bench }
          extract: { token: { json: access_token } }
    flow:
      - websocket:
          name: held
          url: "ws://127.0.0.1:{{ target.port }}/ws"
          headers: { Authorization: "Bearer {{ token }}" }
          connect_timeout: 60s
          steps:
            - hold: { duration: "{{ HOLD }}", ping_interval: 1s }
YAML
  run_case ws "$STAMPEDE" run "$work/ws.yaml" --vus "$sessions" --env "HOLD=$duration"
  python3 - websocket "$sessions" "$work/ws" >>"$results" <<'PY'
import json, re, sys
case, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
timing = open(out + ".time").read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1))
cpu = float(re.search(r"User time \(seconds\): ([\d.]+)", timing).group(1)) + float(re.search(r"System time \(seconds\): ([\d.]+)", timing).group(1))
code = re.search(r"Exit status: (\d+)", timing)
m = json.load(open(out + ".json"))["metrics"]
opened = m.get("ws_sessions", {}).get("count", 0)
pings = m.get("ws_ping", {}).get("count", 0) if "ws_ping" in m else 0
failed = n - opened
print(f"{case}\t{n}\t{rss/1024:.0f}\t{rss/n:.1f}\t{opened} sessions, {pings} pings\t{failed}\t-\t{cpu:.1f}\t{code.group(1) if code else '?'}")
PY
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="bench/results/connections-$stamp.md"
{
  echo "# bench/connections.sh $vus $sessions $duration $ports_n"
  echo
  echo "$(machine_info); open-file limit per process $(ulimit -n); load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "stampede $("$STAMPEDE" --version | awk '{print $2}') ($(git rev-parse --short HEAD)); nginx $(nginx -v 2>&1 | sed 's/.*version: //') (1 worker, CPU 0), $ports_n listeners; generator on CPU 1."
  echo
  echo "| case | VUs / sessions | peak RSS (MB) | KB each | requests / sessions | failed | nginx served | CPU s | exit |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$results"
} | tee "$out"
echo "wrote $out" >&2
