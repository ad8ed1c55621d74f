#!/usr/bin/env bash
# Instructions the service executes per W1 request, counted by callgrind: repeatable to a
# fraction of a percent whatever else the machine does, so small changes show.
# Usage: benches/profile/instructions.sh [requests]   (after `cargo build --release`)
# Needs valgrind and python3. BIN=path picks another build (e.g. one with debug info, for
# `callgrind_annotate` on the file it names). PEER=floor counts examples/floor.rs instead,
# the bare HTTP exchange with no GraphQL, and PEER=handwritten the same writing W1's answer
# itself (after `cargo build --release --example floor`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${BIN:-$here/../../target/release/complycube-graphql}
n=${1:-400}
out=$(mktemp -d)
body=$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$here/w1.lua")
"$bin" simulate --listen 127.0.0.1:18091 --api-key k >/dev/null 2>&1 & sim=$!
if [ "${PEER:-}" = floor ]; then
  server=("$(dirname "$bin")/examples/floor" 127.0.0.1:18090 http://127.0.0.1:18091/v1 k)
elif [ "${PEER:-}" = handwritten ]; then
  server=("$(dirname "$bin")/examples/floor" 127.0.0.1:18090 http://127.0.0.1:18091/v1 k --answer)
else
  server=("$bin" --listen 127.0.0.1:18090 --upstream-url http://127.0.0.1:18091/v1 --api-key k --allow-unauthenticated)
fi
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/callgrind.%p" \
  "${server[@]}" >"$out/valgrind.log" 2>&1 & svc=$!
trap 'kill $sim $svc 2>/dev/null' EXIT
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:18090/ && break; sleep 0.2; done
send() {  # $1 requests over one keep-alive connection; every answer must be clean
  BODY="$body" python3 - "$1" <<'PY'
import http.client, os, sys
c = http.client.HTTPConnection("127.0.0.1", 18090)
for _ in range(int(sys.argv[1])):
    c.request("POST", "/graphql", os.environ["BODY"], {"Content-Type": "application/json"})
    r = c.getresponse(); d = r.read()
    if r.status != 200 or b'"errors"' in d: sys.exit(f"bad answer: {r.status} {d[:200]}")
PY
}
send 50                                   # warm-up: connections, caches, validation
callgrind_control -i on "$svc" >/dev/null 2>&1
send "$n"
callgrind_control -i off "$svc" >/dev/null 2>&1
callgrind_control -d "$svc" >/dev/null 2>&1
kill "$svc"; wait "$svc" 2>/dev/null || true
f="$out/callgrind.$svc.1"
total=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "W1${PEER:+ ($PEER)}: $((total / n)) instructions per request (user space, $n requests; $f)"
