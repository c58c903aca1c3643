#!/usr/bin/env bash
# Start-up time: process spawn to first request in ad-hoc mode (see
# bench/startup.py), median of REPETITIONS runs; writes bench/results/startup-*.md.
#
#   bench/startup.sh [REPETITIONS]      (default: 10)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
reps="${1:-10}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
STAMPEDE=$(stampede_bin "$work")
stamp=$(date -u +%Y%m%dT%H%M%SZ)
python3 bench/startup.py "$STAMPEDE" "$reps" "bench/results/startup-$stamp.md"
echo "written: bench/results/startup-$stamp.md" >&2
