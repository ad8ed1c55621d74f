#!/usr/bin/env bash
# Quick W1 measurement used while optimising: the release binary as service and simulator,
# wrk (Debian package `wrk`) as the load, the server's CPU time read from /proc.
# Usage: benches/profile/w1.sh [seconds]   (after `cargo build --release`; BIN=path for another
# build; PEER=apollo measures the Node peer of benches/reference/apollo instead, after
# `npm ci --prefix benches/reference/apollo`; PEER=floor measures examples/floor.rs, the
# bare HTTP exchange with no GraphQL, and PEER=handwritten the same writing W1's answer
# itself, after `cargo build --release --example floor`)
# Prints requests/s, the server's user and kernel CPU milliseconds per request, the
# simulator's CPU per request, and the server's peak RSS.
# To see where the time goes, run `perf record -g -p <server pid>` during the wrk run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${BIN:-$here/../../target/release/complycube-graphql}
"$bin" simulate --listen 127.0.0.1:18081 --api-key k >/dev/null 2>&1 & sim=$!
if [ "${PEER:-}" = apollo ]; then
  PORT=18080 UPSTREAM=http://127.0.0.1:18081/v1 API_KEY=k node "$here/../reference/apollo/server.mjs" >/dev/null 2>&1 & svc=$!
  url=http://127.0.0.1:18080/
elif [ "${PEER:-}" = floor ] || [ "${PEER:-}" = handwritten ]; then
  answer=(); [ "$PEER" = handwritten ] && answer=(--answer)
  "$(dirname "$bin")/examples/floor" 127.0.0.1:18080 http://127.0.0.1:18081/v1 k "${answer[@]}" \
    >/dev/null 2>&1 & svc=$!
  url=http://127.0.0.1:18080/
else
  "$bin" --listen 127.0.0.1:18080 --upstream-url http://127.0.0.1:18081/v1 --api-key k --allow-unauthenticated >/dev/null 2>&1 & svc=$!
  url=http://127.0.0.1:18080/graphql
fi
trap 'kill $svc $sim 2>/dev/null' EXIT
for _ in $(seq 100); do
  curl -s -o /dev/null -X POST -H 'content-type: application/json' -d '{"query":"{__typename}"}' "$url" && break
  sleep 0.1
done
wrk -t1 -c16 -d"${1:-5}"s -s "$here/w1.lua" "$url" >/dev/null   # warm-up, as long (JIT)
cpu() { awk '{print $14, $15}' "/proc/$1/stat"; }   # utime, stime, in 1/100 s
read -r u1 k1 < <(cpu $svc); read -r s1 t1 < <(cpu $sim)
out=$(wrk -t1 -c16 -d"${1:-5}"s -s "$here/w1.lua" "$url")
read -r u2 k2 < <(cpu $svc); read -r s2 t2 < <(cpu $sim)
n=$(echo "$out" | awk '/requests in/ {print $1}')
ms() { echo "scale=3; ($1) * 10 / $n" | bc; }
echo "W1${PEER:+ ($PEER)}: $(echo "$out" | awk '/Requests\/sec/ {print $2}') req/s," \
  "server $(ms "$u2 - $u1") ms user + $(ms "$k2 - $k1") ms kernel CPU/req," \
  "simulator $(ms "$s2 + $t2 - $s1 - $t1") ms CPU/req," \
  "peak RSS $(awk '/VmHWM/ {print $2}' /proc/$svc/status) kB"
bad=$(echo "$out" | awk '/Non-2xx/ {print $4}')
if [ -n "$bad" ]; then echo "$bad answers were not 2xx: the numbers above mean nothing" >&2; exit 1; fi
