#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs what the tests
# need first (Debian packages, Rust components), then format check, clippy,
# and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages the tests use: the real metrics backends the output tests
# start on loopback (TLS test certificates are made in-process with rcgen):
# Prometheus 2.42 (remote-write, native histograms), InfluxDB 1.6 (v1 /write)
# and VictoriaMetrics (InfluxDB v2 /api/v2/write); nginx (TLS and mTLS
# targets, tests/tls_*.rs) and tinyproxy (a forward proxy, tests/proxy_*.rs).
# None is started as a service; the tests start and stop their own. Chromium
# opens the HTML report headless (tests/report_html.rs) to check what a
# browser renders.
missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v influxd >/dev/null 2>&1 || missing+=(influxdb)
command -v victoria-metrics >/dev/null 2>&1 || missing+=(victoria-metrics)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx)
command -v tinyproxy >/dev/null 2>&1 || missing+=(tinyproxy)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pip3 >/dev/null 2>&1 || command -v pip >/dev/null 2>&1 || missing+=(python3-pip)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# rotel (PyPI) bundles rotel-agent, a real third-party OTLP receiver (gRPC
# and HTTP) for the OTLP output tests.
if ! python3 -c 'import rotel' >/dev/null 2>&1; then
  echo "installing: rotel (PyPI)"
  python3 -m pip install --quiet rotel 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages rotel
fi

# checkov lints the Dockerfile and the Kubernetes manifests; kubernetes-validate
# checks the manifests against the Kubernetes schemas it ships (offline).
# tests/distributed_kubernetes.rs fails, naming this script, without them.
for tool in checkov kubernetes-validate; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "installing: $tool (PyPI)"
    python3 -m pip install --quiet "$tool" 2>/dev/null ||
      python3 -m pip install --quiet --break-system-packages "$tool"
  fi
done

if command -v rustup >/dev/null 2>&1; then
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
fi

cargo fmt --all --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --all-targets --locked --no-fail-fast
