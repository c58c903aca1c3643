#!/usr/bin/env bash
# Scale of connections (issue 19, item 4):
#
#   http       VUS VUs, each holding a keep-alive connection and sending one
#              request a second (request, then `sleep: 1s`), against nginx
#              on PORTS listeners, so that the client ports stay within the
#              ephemeral range (about 64,000 per listener once the script
#              widens it).
#   websocket  SESSIONS concurrent WebSocket sessions (`stampede demo`'s
#              /ws, one demo process per listener), each pinging every
#              second for the whole run.
#
#   bench/connections.sh [VUS] [SESSIONS] [DURATION] [PORTS]
#       defaults: 100000 50000 30s 4
#
# One process holds at most `ulimit -n` descriptors, one per connection, and
# raising the hard limit needs CAP_SYS_RESOURCE. So when a case needs more
# connections than one process may open, the load is spread over as many
# generator processes as it takes, run as one distributed test on this
# machine (`--segment i/n`, one `--start-at`) and merged with `stampede
# merge`, exactly as docs/distributed.md runs it over several machines; the
# targets are spread the same way (nginx workers with `reuseport`
# listeners, one demo process per listener). Peak RSS is then the SUM of the
# generator processes' peaks (target: under 1 GB), which overstates the
# simultaneous total: each is counted at its own peak.
#
# Every request is counted on both sides: nginx's request counter
# (stub_status, shared by its workers) before and after the run must grow by
# exactly the requests of the merged summary. Raises the open-file limits
# (`ulimit -n`, fs.nr_open), the ephemeral port range and the accept and SYN
# queues (net.core.somaxconn, net.ipv4.tcp_max_syn_backlog) as root, and
# restores the kernel settings on exit. Nothing is pinned: with every process
# busy, generators and targets share both cores (the table says how much
# CPU each side used). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
vus="${1:-100000}"
sessions="${2:-50000}"
duration="${3:-30s}"
ports_n="${4:-4}"

need_time
apt_need nginx nginx
work=$(mktemp -d)
# The kernel settings the run changes, with their values to restore: the
# ephemeral port range, and the accept and SYN queues, which a start of
# thousands of connections at once overflows at their defaults (connects
# then wait for SYN retransmits, seconds each).
declare -A saved
for key in net.ipv4.ip_local_port_range net.core.somaxconn net.ipv4.tcp_max_syn_backlog; do
  saved[$key]=$(sysctl -n "$key" | tr -s '\t ' ' ')
done
demo_pids=()
cleanup() {
  stop_nginx
  for p in "${demo_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for key in "${!saved[@]}"; do
    [ "$(sysctl -n "$key" | tr -s '\t ' ' ')" = "${saved[$key]}" ] ||
      as_root sysctl -q -w "$key=${saved[$key]}" || true
  done
  if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
STAMPEDE=$(stampede_bin "$work")

# Both ends hold one descriptor per connection.
as_root sysctl -q -w fs.nr_open=1100000 || true
ulimit -Hn 1048576 2>/dev/null ||
  echo "note: the hard open-file limit stays $(ulimit -Hn) (no CAP_SYS_RESOURCE): the load is spread over processes of at most that many connections each" >&2
ulimit -n "$(ulimit -Hn)"
as_root sysctl -q -w net.ipv4.ip_local_port_range="1024 65000"
as_root sysctl -q -w net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535
# Connections per process: the limit less room for the runtime, listeners,
# outputs and the login connections of the WebSocket case.
# PER_PROCESS=N sets a lower figure (to try the spread on a small run).
cap=$(( $(ulimit -n) - 2000 )); [ "$cap" -gt 250000 ] && cap=250000
[ -n "${PER_PROCESS:-}" ] && [ "$PER_PROCESS" -lt "$cap" ] && cap=$PER_PROCESS
processes_for() { echo $(( ($1 + cap - 1) / cap )); }
echo "open files per process: $(ulimit -n) (up to $cap connections each); ports $(sysctl -n net.ipv4.ip_local_port_range | tr -s '\t ' ' ')" >&2

# run_spread NAME N ARGS...: `stampede run ARGS` as N processes (--segment
# i/N, one --start-at) or as one, each under /usr/bin/time; then the merged
# summary in $work/NAME.json. Prints nothing; the table reads the files.
run_spread() {
  local name=$1 n=$2; shift 2
  local pids=() i start
  if [ "$n" -eq 1 ]; then
    /usr/bin/time -v "$STAMPEDE" run "$@" --quiet --no-color --summary-export "$work/$name.json" \
      >"$work/$name-1.out" 2>"$work/$name-1.time" || true
    tail -3 "$work/$name-1.out" >&2
    return
  fi
  # Loading the plan takes well under a second per process.
  start=$(date -u -d '+4 seconds' +%Y-%m-%dT%H:%M:%SZ)
  for i in $(seq "$n"); do
    /usr/bin/time -v "$STAMPEDE" run "$@" --segment "$i/$n" --start-at "$start" --quiet --no-color \
      --summary-export "$work/$name-$i.json" >"$work/$name-$i.out" 2>"$work/$name-$i.time" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || true; done
  "$STAMPEDE" merge "$work/$name"-[0-9]*.json --no-color --summary-export "$work/$name.json" \
    >"$work/$name-merge.out" 2>&1 || true
  tail -3 "$work/$name-merge.out" >&2
}

# row CASE NAME N SERVED: one table row from run NAME's time files and
# merged summary.
row() {
  python3 - "$1" "$3" "$work/$2" "$4" "$duration" <<'PY'
import glob, json, re, sys
case, n, base, served, duration = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
rss = cpu = 0.0
codes = []
for path in sorted(glob.glob(base + "-[0-9]*.time")):
    t = open(path).read()
    rss += int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
    cpu += float(re.search(r"User time \(seconds\): ([\d.]+)", t).group(1))
    cpu += float(re.search(r"System time \(seconds\): ([\d.]+)", t).group(1))
    code = re.search(r"Exit status: (\d+)", t)
    codes.append(code.group(1) if code else "signal")
procs = len(codes)
m = json.load(open(base + ".json"))["metrics"]
secs = float(duration.rstrip("s"))
if case == "http":
    reqs = m["http_reqs"]["count"]
    failed = m["http_req_failed"]["passes"]
    done = f"{reqs} ({reqs / n / secs:.2f}/s per VU)"
else:
    opened = m.get("ws_sessions", {}).get("count", 0)
    pings = m.get("ws_ping", {}).get("count", 0)
    failed = n - opened
    done = f"{opened} sessions, {pings} pings ({pings / max(opened, 1) / secs:.2f}/s each)"
print(f"| {case} | {n} | {procs} | {rss/1024:.0f} | {rss/n:.1f} | {done} | {failed} | {served} | {cpu:.1f} | {' '.join(codes)} |")
PY
}

rows="$work/rows.md"
: >"$rows"

if [ "$vus" -gt 0 ]; then
  # nginx: a worker per generator process and one more, each at most `cap`
  # connections; `reuseport` gives every worker its own accept queue, which
  # the kernel fills evenly, so that no worker runs out of descriptors.
  http_procs=$(processes_for "$vus")
  workers=$(( http_procs + 1 ))
  dir=$work/nginx
  mkdir -p "$dir"
  ports=()
  listen=""
  for _ in $(seq "$ports_n"); do
    p=$(free_port); ports+=("$p")
    listen+="        listen 127.0.0.1:$p backlog=65535 reuseport;"$'\n'
  done
  awk -v listen="$listen" '/listen 127.0.0.1:@PORT@/ { printf "%s", listen; next } { print }' bench/nginx/nginx.conf.in |
    sed -e "s#@PREFIX@#$dir#g" -e "s#^worker_processes 1;#worker_processes $workers;#" \
        -e "s#worker_connections 100000#worker_connections $cap#" \
        -e "s#worker_rlimit_nofile 200000#worker_rlimit_nofile $(ulimit -n)#" \
        -e 's#^        location / {#        location = /nginx_status { stub_status; }\n        location / {#' >"$dir/nginx.conf"
  (exec nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/stdout" 2>&1) &
  NGINX_PID=$!
  wait_http "http://127.0.0.1:${ports[0]}/"
  nginx_requests() { curl -s "http://127.0.0.1:${ports[0]}/nginx_status" | awk 'NR==3 { print $3 }'; }
  nginx_cpu() { # seconds of CPU of the master and workers so far
    local t=0 p
    for p in $(pgrep -f "nginx -p $dir") $(pgrep -f "nginx: worker process" || true); do
      [ -r "/proc/$p/stat" ] && t=$(( t + $(awk '{ print $14 + $15 }' "/proc/$p/stat") ))
    done
    echo "$t"
  }

  # Each VU n of a process takes listener (n-1) mod PORTS.
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
  before=$(nginx_requests)
  ticks_before=$(nginx_cpu)
  run_spread http "$http_procs" "$work/http.yaml" --vus "$vus" --duration "$duration"
  # The status request itself is counted by nginx too.
  after=$(( $(nginx_requests) - 1 ))
  ticks=$(( $(nginx_cpu) - ticks_before ))
  row http http "$vus" "$((after - before))" >>"$rows"
  echo "nginx: $workers workers, $(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }') CPU s during the http case" >"$work/nginx-cpu.txt"
  stop_nginx
fi

if [ "$sessions" -gt 0 ]; then
  # One demo process per listener, each holding at most `cap` sessions (a
  # session is one descriptor on each side), and as many generators.
  ws_procs=$(processes_for "$sessions")
  demo_ports=()
  for _ in $(seq "$ws_procs"); do
    p=$(free_port); demo_ports+=("$p")
    (exec "$STAMPEDE" demo --listen "127.0.0.1:$p" >/dev/null 2>&1) & demo_pids+=($!)
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
  run_spread ws "$ws_procs" "$work/ws.yaml" --vus "$sessions" --env "HOLD=$duration"
  row websocket ws "$sessions" "-" >>"$rows"
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="bench/results/connections-$stamp.md"
{
  echo "# bench/connections.sh $vus $sessions $duration $ports_n"
  echo
  echo "$(machine_info); open-file limit per process $(ulimit -n); load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "stampede $("$STAMPEDE" --version | awk '{print $2}') ($(git rev-parse --short HEAD)); nginx $(nginx -v 2>&1 | sed 's/.*version: //'), $ports_n listeners with reuseport; $(cat "$work/nginx-cpu.txt" 2>/dev/null || echo 'no http case'). Nothing pinned."
  echo
  echo "| case | VUs / sessions | generator processes | peak RSS, sum (MB) | KB each | requests / sessions | failed | nginx served | generator CPU s | exit codes |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  cat "$rows"
} | tee "$out"
echo "wrote $out" >&2
