# Build: docker build -t complycube-graphql .
# Run:   docker run --rm -p 8080:8080 complycube-graphql                      (demo mode)
#        docker run --rm -p 8080:8080 -e COMPLYCUBE_API_KEY=... -e FACADE_ACCESS_TOKENS=... complycube-graphql
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin complycube-graphql

# distroless/cc: glibc, CA certificates (so rustls trusts api.complycube.com), no shell,
# and a non-root user.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/complycube-graphql /usr/local/bin/complycube-graphql
USER nonroot:nonroot
ENV LISTEN_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/complycube-graphql"]
