#!/usr/bin/env bash
# W1 side by side: this service and a straightforward Apollo Server 5 + DataLoader server
# (benches/reference/apollo), against the same simulator, alternating over several rounds.
# Usage: benches/reference/compare.sh [rounds] [seconds]   (after `cargo build --release`;
# BIN=path compares another build of the service)
# Needs wrk, node and npm (the Apollo server's packages are installed on first use).
# Prints, per round and server, requests/s, p99 latency (wrk's), the server's CPU
# milliseconds per request (utime + stime from /proc) and its peak RSS, then the medians.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root="$here/../.."
bin=${BIN:-$root/target/release/complycube-graphql}
lua="$root/benches/profile/w1.lua"
rounds=${1:-3}
seconds=${2:-5}
[ -d "$here/apollo/node_modules" ] || npm ci --prefix "$here/apollo" --silent
"$bin" simulate --listen 127.0.0.1:18081 --api-key k >/dev/null 2>&1 & sim=$!
trap 'kill $sim 2>/dev/null' EXIT
start() {
  case $1 in
    service) "$bin" --listen 127.0.0.1:18080 --upstream-url http://127.0.0.1:18081/v1 --api-key k --allow-unauthenticated >/dev/null 2>&1 & ;;
    apollo) PORT=18080 UPSTREAM=http://127.0.0.1:18081/v1 API_KEY=k node "$here/apollo/server.mjs" >/dev/null 2>&1 & ;;
  esac
  pid=$!
  for _ in $(seq 100); do
    curl -s -o /dev/null -X POST -H 'content-type: application/json' -d '{"query":"{__typename}"}' http://127.0.0.1:18080/ && break
    sleep 0.1
  done
}
url() { [ "$1" = service ] && echo http://127.0.0.1:18080/graphql || echo http://127.0.0.1:18080/; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
results=$(mktemp)
for round in $(seq "$rounds"); do
  order="service apollo"; [ $((round % 2)) = 0 ] && order="apollo service"
  for server in $order; do
    start "$server"
    wrk -t1 -c16 -d"${seconds}s" -s "$lua" "$(url "$server")" >/dev/null   # warm-up, as long (JIT)
    a=$(cpu "$pid")
    out=$(wrk -t1 -c16 -d"${seconds}s" --latency -s "$lua" "$(url "$server")")
    b=$(cpu "$pid")
    n=$(echo "$out" | awk '/requests in/ {print $1}')
    bad=$(echo "$out" | awk '/Non-2xx/ {print $4}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {v = $2; u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v);
      print (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v}')
    ms=$(echo "scale=3; ($b - $a) * 10 / $n" | bc)
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    echo "round $round $server: $rps req/s, p99 $p99 ms, $ms ms CPU/req, peak RSS $((rss / 1024)) MiB${bad:+, $bad non-2xx}"
    echo "$server $rps $ms $rss $p99" >>"$results"
  done
done
median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
for server in service apollo; do
  rps=$(awk -v s=$server '$1==s {print $2}' "$results" | median)
  ms=$(awk -v s=$server '$1==s {print $3}' "$results" | median)
  rss=$(awk -v s=$server '$1==s {print $4}' "$results" | median)
  p99=$(awk -v s=$server '$1==s {print $5}' "$results" | median)
  echo "median $server: $rps req/s, p99 $p99 ms, $ms ms CPU/req, peak RSS $((${rss%.*} / 1024)) MiB"
done
rm -f "$results"
