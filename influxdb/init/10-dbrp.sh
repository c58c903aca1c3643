#!/bin/sh
# Runs once inside the influxdb:2 container, right after the initial setup
# (DOCKER_INFLUXDB_INIT_MODE=setup). Maps the bucket to an InfluxQL
# database/retention policy (DBRP) of the same name, so that Grafana's InfluxQL
# dashboards and InfluxDB 1.x-style clients can query it:
#   database = $DOCKER_INFLUXDB_INIT_BUCKET, retention policy = autogen.
set -eu

org="${DOCKER_INFLUXDB_INIT_ORG}"
bucket="${DOCKER_INFLUXDB_INIT_BUCKET}"

# The entrypoint exports the new bucket's id; look it up when it does not.
bucket_id="${DOCKER_INFLUXDB_INIT_BUCKET_ID:-}"
if [ -z "${bucket_id}" ]; then
  bucket_id="$(influx bucket list --org "${org}" --name "${bucket}" --hide-headers | cut -f 1)"
fi

if influx v1 dbrp list --org "${org}" --db "${bucket}" --hide-headers 2>/dev/null | grep -q .; then
  echo "stampede: InfluxQL mapping for ${bucket} already exists"
  exit 0
fi

influx v1 dbrp create \
  --org "${org}" \
  --bucket-id "${bucket_id}" \
  --db "${bucket}" \
  --rp autogen \
  --default
echo "stampede: InfluxQL database ${bucket} (rp autogen) maps to bucket ${bucket}"
