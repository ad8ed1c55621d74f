#!/usr/bin/env bash
# Quick W1 measurement used while optimising: the release binary as service and simulator,
# wrk (Debian package `wrk`) as the load, the service's CPU time read from /proc.
# Usage: benches/profile/w1.sh [seconds]   (after `cargo build --release`; BIN=path for another build)
# Prints requests/s, service and simulator CPU milliseconds per request, peak RSS.
# To see where the time goes, run `perf record -g -p <service pid>` during the wrk run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${BIN:-$here/../../target/release/complycube-graphql}
"$bin" simulate --listen 127.0.0.1:18081 --api-key k >/dev/null 2>&1 & sim=$!
"$bin" --listen 127.0.0.1:18080 --upstream-url http://127.0.0.1:18081/v1 --api-key k --allow-unauthenticated >/dev/null 2>&1 & svc=$!
trap 'kill $svc $sim 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.1; done
wrk -t1 -c16 -d2s -s "$here/w1.lua" http://127.0.0.1:18080/graphql >/dev/null   # warm-up
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime, in 1/100 s
a=$(cpu $svc); s=$(cpu $sim)
out=$(wrk -t1 -c16 -d"${1:-5}"s -s "$here/w1.lua" http://127.0.0.1:18080/graphql)
b=$(cpu $svc); t=$(cpu $sim)
n=$(echo "$out" | awk '/requests in/ {print $1}')
echo "W1: $(echo "$out" | awk '/Requests\/sec/ {print $2}') req/s," \
  "service $(echo "scale=3; ($b - $a) * 10 / $n" | bc) ms CPU/req," \
  "simulator $(echo "scale=3; ($t - $s) * 10 / $n" | bc) ms CPU/req," \
  "peak RSS $(awk '/VmHWM/ {print $2}' /proc/$svc/status) kB"
