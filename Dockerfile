# syntax=docker/dockerfile:1.7
# Build: docker build -t complycube-graphql .          (BuildKit, the default builder)
# Run:   docker run --rm -p 8080:8080 complycube-graphql                      (demo mode)
#        docker run --rm -p 8080:8080 -e COMPLYCUBE_API_KEY=... -e FACADE_ACCESS_TOKENS=... complycube-graphql
#
# The build stage runs exactly the cargo command CI runs on the same files (`.ci/docker`
# copies what .dockerignore and the COPY lines let through into a scratch directory and runs
# the command below there, with a cheaper optimiser), so a manifest or a file this build needs cannot go missing
# unnoticed. No stub files: the registry and target directories are BuildKit cache mounts,
# which keep dependencies compiled between builds instead of a dependency layer.
#
# Base images are pinned by exact tag and by digest, so a re-tag upstream cannot change
# what is built. The digests were not resolved against the registries from this project's
# machine (it has no access to them): they are the ones public Dockerfiles pin for these
# same tags. Check them, and refresh them on purpose, with
#   docker buildx imagetools inspect rust:1.89.0-slim-bookworm
#   docker buildx imagetools inspect gcr.io/distroless/cc-debian12:nonroot

FROM rust:1.89.0-slim-bookworm@sha256:d7fc7de78bb8c1469933aeecbf801314d30d7d6e9f0578bba4cfa285bfa37fe6 AS build
WORKDIR /src

# What `cargo build` reads: the manifest, the sources (GraphiQL's assets and the Redis
# script among them), and the benches, which Cargo.toml names.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches

# The binary leaves the cache mount by a copy: a mount is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bin complycube-graphql \
 && cp target/release/complycube-graphql /complycube-graphql

# distroless/cc: glibc (for the binary and mimalloc), CA certificates (so rustls trusts
# api.complycube.com), no shell, no package manager, and a non-root user (65532).
#
# No HEALTHCHECK: the image has no shell and no curl to run one with. Orchestrators probe
# over HTTP instead: /healthz (liveness) and /readyz (readiness), as
# deploy/kubernetes/deployment.yaml does. (Kubernetes ignores HEALTHCHECK anyway.)
FROM gcr.io/distroless/cc-debian12:nonroot@sha256:9dac0a79194e45a7da0158a9c6da57b217585af0786db3845d1f0ec1a0dd182f
COPY --from=build /complycube-graphql /usr/local/bin/complycube-graphql
USER 65532:65532
ENV LISTEN_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/complycube-graphql"]
