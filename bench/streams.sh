#!/usr/bin/env bash
# Streams at scale: WS concurrent WebSocket sessions held HOLD with a ping
# every PING, and SSE concurrent Server-Sent Events streams, against the demo
# target in its own process. Reports exact counts (sessions, messages, pings,
# events) against what the scenario must produce, errors, latency, and the
# peak RSS of stampede (/usr/bin/time -v) and of the demo server (VmHWM).
#
#   bench/streams.sh [WS] [HOLD] [SSE] [TOKENS]   (defaults: 10000 60s 1000 200)
#   KEEP=1 keeps the temp dir with every run's output.
#
# Each WebSocket VU sleeps a random 0-10 s (connects are spread out, as real
# clients arrive), opens one session, holds it HOLD, closes it. One login in
# the test-level setup serves every VU: a login per VU would keep an idle
# HTTP connection per VU open beside its WebSocket and double the open files.
# Each SSE VU opens one chat stream of TOKENS tokens, one every 100 ms.
# The demo runs on CPU 0, stampede on CPU 1; `ulimit -n` is raised to the
# hard limit for both (each side holds one socket per session).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
ws="${1:-10000}"
hold="${2:-60s}"
sse="${3:-1000}"
tokens="${4:-200}"
ping=5s

need_time
work=$(mktemp -d)
demo_pid=""
cleanup() {
  [ -n "$demo_pid" ] && kill "$demo_pid" 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
STAMPEDE=$(stampede_bin "$work")
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=1048576
ulimit -n "$nofile"
if [ "$ws" -ge $((nofile - 100)) ] || [ "$sse" -ge $((nofile - 100)) ]; then
  echo "the open-file hard limit is $nofile: at most $((nofile - 100)) sessions per run" >&2
  exit 2
fi

port=$(free_port)
base="http://127.0.0.1:$port"
taskset -c 0 "$STAMPEDE" demo --listen "127.0.0.1:$port" >"$work/demo.log" 2>&1 &
demo_pid=$!
wait_http "$base/health"

# Both scenarios log in once, in the test-level setup.
login_setup=$(cat <<'EOF'
setup:
  - request:
      name: login
      method: POST
      url: "{{ BASE_URL }}/auth/login"
      json: { email: "bench@example.com", password: "pw" }
      checks: [ { status: 200 } ]
      extract: { token: { json: access_token } }
EOF
)

cat >"$work/ws-hold.yaml" <<EOF
env:
  BASE_URL: $base
$login_setup
scenarios:
  held:
    executor: per-vu-iterations
    vus: $ws
    iterations: 1
    max_duration: 10m
    flow:
      - sleep: { min: 0s, max: 10s }
      - websocket:
          name: held
          url: "{{ BASE_URL }}/ws"
          headers: { Authorization: "Bearer {{ token }}" }
          connect_timeout: 30s
          steps:
            - send: { json: { tool: echo, args: { vu: "{{ __VU }}" } } }
            - expect: { name: echo, json: result.vu, equals: "{{ __VU }}", timeout: 30s }
            - hold: { duration: $hold, ping_interval: $ping }
          checks:
            - status: 101
EOF

cat >"$work/sse-streams.yaml" <<EOF
env:
  BASE_URL: $base
$login_setup
scenarios:
  streams:
    executor: per-vu-iterations
    vus: $sse
    iterations: 1
    max_duration: 10m
    flow:
      - sleep: { min: 0s, max: 2s }
      - sse:
          name: chat
          method: POST
          url: "{{ BASE_URL }}/api/chat/stream"
          headers: { Authorization: "Bearer {{ token }}" }
          json: { prompt: "bench", tokens: $tokens, delay_ms: 100 }
          until: "[DONE]"
          timeout: 5m
          checks:
            - status: 200
EOF

# run_case NAME: runs $work/NAME.yaml; the summary lands in $work/NAME.json.
run_case() {
  local name=$1 rc=0
  echo "running $name ($(date +%T))" >&2
  taskset -c 1 /usr/bin/time -v "$STAMPEDE" run --quiet --no-color \
    --summary-export "$work/$name.json" "$work/$name.yaml" >"$work/$name.out" 2>"$work/$name.time" || rc=$?
  echo "$rc" >"$work/$name.rc"
  awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$name.time" >"$work/$name.rss"
  awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/$name.time" >"$work/$name.wall"
  if [ "$rc" != 0 ]; then tail -20 "$work/$name.out" >&2; fi
}
run_case ws-hold
run_case sse-streams
demo_hwm=$(awk '/VmHWM/ {print $2}' "/proc/$demo_pid/status")

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="bench/results/streams-$stamp.md"
python3 - "$work" "$out" "$ws" "$hold" "$ping" "$sse" "$tokens" "$demo_hwm" \
  "$(machine_info); open-file hard limit $nofile" "$("$STAMPEDE" --version) ($(git rev-parse --short HEAD))" <<'PY'
import json, sys
work, out, ws, hold, ping, sse, tokens, demo_hwm, machine, version = sys.argv[1:11]
ws, sse, tokens = int(ws), int(sse), int(tokens)
def secs(text): return float(text[:-1]) * {"s": 1, "m": 60}[text[-1]]
def load(name):
    m = json.load(open(f"{work}/{name}.json"))["metrics"]
    return m, int(open(f"{work}/{name}.rc").read()), int(open(f"{work}/{name}.rss").read()), open(f"{work}/{name}.wall").read().strip()
def count(m, k): return int(m.get(k, {}).get("count", 0))
def trend(m, k, q, digits=1, scale=1):
    """A trend statistic formatted, or – when the trend has no samples
    (e.g. no pings when HOLD is shorter than the ping interval)."""
    v = m.get(k, {}).get(q)
    return "–" if v is None else f"{v / scale:.{digits}f}"
lines = [f"# Streams at scale: {ws:,} WebSocket sessions held {hold}, {sse:,} SSE streams", "", machine, "", f"Version: {version}", "",
         "Demo target in its own process on CPU 0, stampede on CPU 1, both on 127.0.0.1.", ""]
m, rc, rss, wall = load("ws-hold")
pings_each = int((secs(hold) - 1e-9) // secs(ping))
lines += ["## WebSocket", "",
          f"Every VU: one session, one echo exchange, then held {hold} with a ping every {ping} ({pings_each} per session).", "",
          "| measure | value | expected |", "|---|---|---|",
          f"| ws_sessions | {count(m, 'ws_sessions'):,} | {ws:,} |",
          f"| ws_msgs_sent / ws_msgs_received | {count(m, 'ws_msgs_sent'):,} / {count(m, 'ws_msgs_received'):,} | {ws:,} / {ws:,} |",
          f"| ws_ping samples | {count(m, 'ws_ping'):,} | {ws * pings_each:,} |",
          f"| http_req_failed (upgrades) | {m['http_req_failed']['value'] * 100:.2f}% | 0% |",
          f"| checks failed | {m['checks']['fails'] if 'fails' in m['checks'] else '-'} | 0 |",
          f"| ws_connecting p(95) / max (ms) | {trend(m, 'ws_connecting', 'p(95)')} / {trend(m, 'ws_connecting', 'max')} | |",
          f"| ws_ping p(95) / max (ms) | {trend(m, 'ws_ping', 'p(95)', 2)} / {trend(m, 'ws_ping', 'max', 2)} | |",
          f"| ws_session_duration med (s) | {trend(m, 'ws_session_duration', 'med', 2, 1000)} | |",
          f"| stampede peak RSS (whole process) | {rss / 1024:.1f} MB ({rss / ws:.1f} KB per session, all included) | |",
          f"| wall time, exit code | {wall}, {rc} | |", ""]
m, rc, rss, wall = load("sse-streams")
lines += ["## Server-Sent Events", "",
          f"Every VU: one chat stream of {tokens} tokens, one every 100 ms.", "",
          "| measure | value | expected |", "|---|---|---|",
          f"| streams (sse_events_per_stream samples) | {count(m, 'sse_events_per_stream'):,} | {sse:,} |",
          f"| sse_events | {count(m, 'sse_events'):,} | {sse * tokens:,} |",
          f"| http_req_failed | {m['http_req_failed']['value'] * 100:.2f}% | 0% |",
          f"| sse_time_to_first_event p(95) (ms) | {trend(m, 'sse_time_to_first_event', 'p(95)')} | ≈100 |",
          f"| sse_event_gap p(50) / p(99) (ms) | {trend(m, 'sse_event_gap', 'med')} / {trend(m, 'sse_event_gap', 'p(99)')} | 100 |",
          f"| stampede peak RSS (whole process) | {rss / 1024:.1f} MB ({rss / sse:.1f} KB per stream, all included) | |",
          f"| wall time, exit code | {wall}, {rc} | |", "",
          f"Demo server peak RSS over both runs: {int(demo_hwm) / 1024:.1f} MB.", "",
          f"Command: `bench/streams.sh {ws} {hold} {sse} {tokens}`"]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "written: $out" >&2
