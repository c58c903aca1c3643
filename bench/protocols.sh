#!/usr/bin/env bash
# stampede against the reference tool of each protocol, side by side, on
# nginx (one worker on CPU 0; every generator on CPU 1) with a self-signed
# certificate made here (TLS 1.3, session resumption off):
#
#   https-keepalive  wrk -c50 https://          vs stampede 50 VUs, keep-alive
#   http-close       wrk -c50 Connection: close vs stampede, a new connection per request
#   https-close      the same over TLS: a full handshake per request
#   h2c-1x100        h2load -c1 -m100 (h2c)     vs stampede 1 VU, batches of 100 streams
#   h2c-10x100       h2load -c10 -m100          vs 10 VUs
#   h2-1x100         h2load over TLS (ALPN h2)  vs stampede
#   h2-10x100
#
#   bench/protocols.sh [DURATION] [ROUNDS] [CASES]
#       defaults: 10s 3 "https-keepalive http-close https-close h2c-1x100 h2c-10x100 h2-1x100 h2-10x100"
#
# Rounds alternate the tools within each case (A B A B ...). Prints and
# writes to bench/results/ the median requests/s, the ratio to the
# reference tool, and user and system CPU per request of each generator.
# Installs nginx, wrk, h2load (nghttp2-client) and GNU time when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
duration="${1:-10s}"
rounds="${2:-3}"
cases="${3:-https-keepalive http-close https-close h2c-1x100 h2c-10x100 h2-1x100 h2-10x100}"

need_time
apt_need taskset util-linux
apt_need wrk wrk
apt_need h2load nghttp2-client
apt_need nginx nginx
work=$(mktemp -d)
trap 'stop_nginx; if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi' EXIT
STAMPEDE=$(stampede_bin "$work")

# nginx with its own certificate on three listeners.
dir=$work/nginx
mkdir -p "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
http_port=$(free_port); tls_port=$(free_port); h2c_port=$(free_port)
sed -e "s#@PREFIX@#$dir#g" -e "s#@CERT@#$dir/cert.pem#g" -e "s#@KEY@#$dir/key.pem#g" \
  -e "s#@HTTP_PORT@#$http_port#g" -e "s#@TLS_PORT@#$tls_port#g" -e "s#@H2C_PORT@#$h2c_port#g" \
  bench/nginx/protocols.conf.in >"$dir/nginx.conf"
(ulimit -n 200000 2>/dev/null || true; exec taskset -c 0 nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/stdout" 2>&1) &
NGINX_PID=$!
wait_http "http://127.0.0.1:$http_port/"
echo "nginx: http :$http_port, https+h2 :$tls_port, h2c :$h2c_port (CPU 0); generators on CPU 1; $duration x $rounds rounds" >&2

# The reference tool and stampede's command line for a case.
# Sets ref_cmd and stampede_cmd (arrays).
commands() {
  local case=$1 out=$2
  local h1=(run --quiet --no-color --summary-export "$out.json" bench/scenarios/h1-loop.yaml --duration "$duration")
  local h2=(run --quiet --no-color --summary-export "$out.json" bench/scenarios/h2-streams.yaml --duration "$duration")
  case $case in
    https-keepalive)
      ref_cmd=(wrk -t1 -c50 -d"$duration" "https://127.0.0.1:$tls_port/")
      stampede_cmd=("$STAMPEDE" "${h1[@]}" --vus 50 --env "BASE_URL=https://127.0.0.1:$tls_port") ;;
    http-close)
      ref_cmd=(wrk -t1 -c50 -d"$duration" -H "Connection: close" "http://127.0.0.1:$http_port/")
      stampede_cmd=("$STAMPEDE" "${h1[@]}" --vus 50 --env "BASE_URL=http://127.0.0.1:$http_port" --env CONNECTION=close) ;;
    https-close)
      ref_cmd=(wrk -t1 -c50 -d"$duration" -H "Connection: close" "https://127.0.0.1:$tls_port/")
      stampede_cmd=("$STAMPEDE" "${h1[@]}" --vus 50 --env "BASE_URL=https://127.0.0.1:$tls_port" --env CONNECTION=close) ;;
    h2c-*|h2-*)
      local shape=${case#*-} conns streams scheme port
      conns=${shape%x*}; streams=${shape#*x}
      if [[ $case == h2c-* ]]; then scheme=http; port=$h2c_port; else scheme=https; port=$tls_port; fi
      ref_cmd=(h2load -t1 -c"$conns" -m"$streams" -D"${duration%s}" "$scheme://127.0.0.1:$port/")
      stampede_cmd=("$STAMPEDE" "${h2[@]}" --vus "$conns" --env "BASE_URL=$scheme://127.0.0.1:$port" --env "STREAMS=$streams") ;;
    *) echo "unknown case: $case" >&2; exit 2 ;;
  esac
}

# run_one CASE TOOL ROUND: prints "case<TAB>tool<TAB>round<TAB>req/s<TAB>user µs/req<TAB>system µs/req<TAB>errors"
run_one() {
  local case=$1 tool=$2 r=$3 out="$work/$1.$2.$3"
  local -a ref_cmd stampede_cmd cmd
  commands "$case" "$out"
  if [ "$tool" = stampede ]; then cmd=("${stampede_cmd[@]}"); else cmd=("${ref_cmd[@]}"); fi
  taskset -c 1 /usr/bin/time -v "${cmd[@]}" >"$out.out" 2>"$out.time" || true
  python3 - "$case" "$tool" "$r" "$out" <<'PY'
import json, re, sys
case, tool, rnd, out = sys.argv[1:5]
text = open(out + ".out").read()
timing = open(out + ".time").read()
user = float(re.search(r"User time \(seconds\): ([\d.]+)", timing).group(1))
system = float(re.search(r"System time \(seconds\): ([\d.]+)", timing).group(1))
if tool == "wrk":
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    count = int(re.search(r"(\d+) requests in", text).group(1))
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    errors += int((re.search(r"Non-2xx or 3xx responses: (\d+)", text) or [0, 0])[1])
elif tool == "h2load":
    m = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text)
    rps = float(m.group(1))
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored", text)
    count = int(done.group(2))
    errors = int(done.group(3)) + int(done.group(4))
else:
    m = json.load(open(out + ".json"))["metrics"]
    rps = m["http_reqs"]["rate"]
    count = m["http_reqs"]["count"]
    errors = round(m["http_req_failed"]["value"] * count) if "value" in m["http_req_failed"] else 0
count = max(count, 1)
print(f"{case}\t{tool}\t{rnd}\t{rps:.0f}\t{user * 1e6 / count:.2f}\t{system * 1e6 / count:.2f}\t{errors}")
PY
}

reference() { case $1 in h2*) echo h2load ;; *) echo wrk ;; esac; }

results="$work/results.tsv"
for case in $cases; do
  ref=$(reference "$case")
  for r in $(seq "$rounds"); do
    run_one "$case" "$ref" "$r" | tee -a "$results"
    run_one "$case" stampede "$r" | tee -a "$results"
  done
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="bench/results/protocols-$stamp.md"
load=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$results" "$out" "$duration" "$rounds" "$(machine_info)" "$load" \
  "$("$STAMPEDE" --version | awk '{print $2}') ($(git rev-parse --short HEAD))" \
  "$(wrk -v 2>&1 | head -1 | awk '{print $2}')" "$(h2load --version | head -1 | awk '{print $2}')" \
  "$(nginx -v 2>&1 | sed 's/.*version: //')" <<'PY'
import statistics, sys
res, out, duration, rounds, machine, load, stampede, wrk, h2load, nginx = sys.argv[1:11]
rows = [l.split("\t") for l in open(res).read().splitlines() if l]
cases = list(dict.fromkeys(r[0] for r in rows))
lines = [
    f"# bench/protocols.sh {duration} {rounds}",
    "",
    f"{machine}; load average after the run: {load}.",
    f"stampede {stampede}, wrk {wrk}, h2load {h2load}, nginx {nginx} (1 worker, CPU 0; generators on CPU 1).",
    "",
    "| case | reference | ref req/s | stampede req/s | ratio | ref user/sys µs per req | stampede user/sys µs per req | errors (ref/stampede) |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
]
for case in cases:
    tools = list(dict.fromkeys(r[1] for r in rows if r[0] == case))
    ref = [t for t in tools if t != "stampede"][0]
    def med(tool, col):
        return statistics.median(float(r[col]) for r in rows if r[0] == case and r[1] == tool)
    def errs(tool):
        return sum(int(r[6]) for r in rows if r[0] == case and r[1] == tool)
    ratio = med("stampede", 3) / med(ref, 3) if med(ref, 3) else float("nan")
    lines.append(
        f"| {case} | {ref} | {med(ref, 3):,.0f} | {med('stampede', 3):,.0f} | {ratio:.2f}x | "
        f"{med(ref, 4):.2f} / {med(ref, 5):.2f} | {med('stampede', 4):.2f} / {med('stampede', 5):.2f} | "
        f"{errs(ref)} / {errs('stampede')} |"
    )
lines += ["", "Medians of the alternating rounds; CPU per request from /usr/bin/time -v (user, system)."]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "wrote $out" >&2
