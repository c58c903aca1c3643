#!/usr/bin/env bash
# Bounded memory against a hostile target: VUS virtual users against a
# server on 127.0.0.1 whose every response is an endless chunked body, once
# with a check that needs the body (kept up to max_body_size, then
# body_too_large) and once without (drained as it arrives, until the
# request timeout). Prints stampede's peak RSS (/usr/bin/time -v) and the
# outcome counts of each case.
#
#   bench/hostile.sh [VUS] [DURATION] [MAX_BODY_SIZE]   (defaults: 1000 20s 1MiB)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
vus="${1:-1000}"
duration="${2:-20s}"
max_body="${3:-1MiB}"
need_time

work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
bin=$(stampede_bin "$work")
port=$(free_port)

# The endless body: 64 KiB chunks for as long as the client reads.
cat > "$work/endless.py" <<'PY'
import asyncio, sys
CHUNK = b"x" * 65536
FRAME = b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n"
async def serve(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head:
                return
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n")
            while True:
                writer.write(FRAME)
                await writer.drain()
    except Exception:
        pass
    finally:
        writer.close()
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]), backlog=4096)
    async with server:
        await server.serve_forever()
asyncio.run(main())
PY
python3 "$work/endless.py" "$port" & server_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

run_case() { # name check(yes|no)
  local checks=""
  [ "$2" = yes ] && checks='          checks:
            - { name: body read, body_contains: "x" }'
  cat > "$work/$1.yaml" <<YAML
http:
  max_body_size: $max_body
scenarios:
  endless:
    executor: constant-vus
    vus: $vus
    duration: $duration
    graceful_stop: 5s
    flow:
      - request:
          name: endless
          url: "http://127.0.0.1:$port/"
          timeout: 5s
$checks
YAML
  (ulimit -n 65536 2>/dev/null || true
   /usr/bin/time -v -o "$work/$1.time" "$bin" run --quiet "$work/$1.yaml" \
     --summary-export "$work/$1.json" >"$work/$1.out" 2>&1) || true
  python3 - "$work/$1.json" "$1" "$(peak_rss_mb "$work/$1.time")" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); name = sys.argv[2]; rss = sys.argv[3]
codes = {}
for series in s["series"].get("http_reqs", []):
    code = series["tags"].get("error_code", "ok")
    codes[code] = codes.get(code, 0) + series["count"]
received = s["metrics"].get("data_received", {}).get("count", 0)
print(f"{name:>14}: peak RSS {rss} MB, requests by outcome {codes}, {received / 2**30:.1f} GiB received")
PY
}

machine_info
echo "$vus VUs for $duration against an endless chunked body, max_body_size $max_body"
run_case "check-reads" yes
run_case "no-check" no
