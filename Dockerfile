# Build: docker build -t complycube-graphql .
# Run:   docker run --rm -p 8080:8080 complycube-graphql                      (demo mode)
#        docker run --rm -p 8080:8080 -e COMPLYCUBE_API_KEY=... -e FACADE_ACCESS_TOKENS=... complycube-graphql
#
# Base images are pinned by exact tag and by digest, so a re-tag upstream cannot change
# what is built. The digests were not resolved against the registries from this machine
# (it has no access to them): they are the ones public Dockerfiles pin for these same
# tags. Check them, and refresh them on purpose, with
#   docker buildx imagetools inspect rust:1.89.0-slim-bookworm
#   docker buildx imagetools inspect gcr.io/distroless/cc-debian12:nonroot

FROM rust:1.89.0-slim-bookworm@sha256:d7fc7de78bb8c1469933aeecbf801314d30d7d6e9f0578bba4cfa285bfa37fe6 AS build
WORKDIR /src

# Dependencies first, in their own layer: it is rebuilt only when Cargo.toml or Cargo.lock
# change, not on every source change. The manifest names the benches, so they need files.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && echo 'fn main() {}' > benches/micro.rs \
 && cp benches/micro.rs benches/load.rs \
 && cargo build --release --locked --bin complycube-graphql \
 && rm -rf src target/release/complycube-graphql* \
      target/release/deps/complycube_graphql-* target/release/deps/libcomplycube_graphql-* \
      target/release/.fingerprint/complycube-graphql-*

# Then the service itself.
COPY src ./src
RUN cargo build --release --locked --bin complycube-graphql

# distroless/cc: glibc (for the binary and mimalloc), CA certificates (so rustls trusts
# api.complycube.com), no shell, no package manager, and a non-root user (65532).
#
# No HEALTHCHECK: the image has no shell and no curl to run one with. Orchestrators probe
# over HTTP instead: /healthz (liveness) and /readyz (readiness), as
# deploy/kubernetes/deployment.yaml does. (Kubernetes ignores HEALTHCHECK anyway.)
FROM gcr.io/distroless/cc-debian12:nonroot@sha256:9dac0a79194e45a7da0158a9c6da57b217585af0786db3845d1f0ec1a0dd182f
COPY --from=build /src/target/release/complycube-graphql /usr/local/bin/complycube-graphql
USER 65532:65532
ENV LISTEN_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/complycube-graphql"]
