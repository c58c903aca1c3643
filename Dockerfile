# stampede as a container image: the load generator of a distributed test
# (deploy/kubernetes/, docs/distributed.md). Build from the repository root:
#
#   docker build -t stampede:0.1.0 .
#
# Stage 1 builds the release binary against the locked dependencies;
# stage 2 is a slim Debian with only the CA certificates (for https:// targets
# and outputs) and the binary, run as an unprivileged user. A shell stays in
# the image on purpose: the Kubernetes Job computes each pod's `--segment`
# from JOB_COMPLETION_INDEX with shell arithmetic.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked --bin stampede \
    && strip target/release/stampede

FROM debian:bookworm-slim
# checkov:skip=CKV_DOCKER_2: a load test is a batch process that ends with its verdict; Kubernetes watches the Job, not a health probe
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 65532 stampede \
    && useradd --uid 65532 --gid 65532 --no-create-home --shell /usr/sbin/nologin stampede
COPY --from=build /src/target/release/stampede /usr/local/bin/stampede
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["stampede"]
CMD ["--help"]
