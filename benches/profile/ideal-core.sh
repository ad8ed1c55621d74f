#!/usr/bin/env bash
# W1 with an ideal execution core inside the real service (benches/profile/ideal_core.rs):
# every layer around the executor as in the product, W1's answer written by hand as it is
# resolved. Builds a copy of the working tree with ideal-core.patch applied, in its own
# target directory (target/ideal-core: the first run compiles everything, about 6 minutes on
# 2 cores), checks that its W1 answer is byte for byte the service's, then measures it with
# w1.sh or instructions.sh.
# Usage: benches/profile/ideal-core.sh w1 [seconds] | instructions [requests]
#   (after `cargo build --release`: the service's own answer is the reference)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
what=${1:-}
case $what in
  w1|instructions) shift ;;
  *) echo "usage: $0 w1 [seconds] | instructions [requests]" >&2; exit 2 ;;
esac
work=$root/target/ideal-core
rm -rf "$work/tree"; mkdir -p "$work/tree"
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
  tar --null --ignore-failed-read -T - -cf -) | tar -x -C "$work/tree"
if ! patch -p1 --quiet --forward -d "$work/tree" < "$here/ideal-core.patch"; then
  echo "ideal-core.patch no longer applies: bring its three hunks up to date" >&2; exit 1
fi
CARGO_TARGET_DIR=$work/target cargo build --release --locked --quiet \
  --manifest-path "$work/tree/Cargo.toml" --bin complycube-graphql
bin=$work/target/release/complycube-graphql
service=$root/target/release/complycube-graphql
body=$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$here/w1.lua")
"$service" simulate --listen 127.0.0.1:18094 --api-key k >/dev/null 2>&1 & sim=$!
serve() { "$1" --listen "127.0.0.1:$2" --upstream-url http://127.0.0.1:18094/v1 --api-key k \
  --allow-unauthenticated >/dev/null 2>&1 & }
serve "$service" 18095; ours=$!
serve "$bin" 18096; ideal=$!
trap 'kill $sim $ours $ideal 2>/dev/null' EXIT
answer() {
  for _ in $(seq 100); do
    curl -sf -H 'content-type: application/json' -d "$body" "http://127.0.0.1:$1/graphql" && return
    sleep 0.1
  done
}
answer 18095 >"$work/service.json"; answer 18096 >"$work/ideal.json"
if [ ! -s "$work/service.json" ] || ! cmp -s "$work/service.json" "$work/ideal.json"; then
  echo "the ideal core's W1 answer is not the service's (see $work/*.json)" >&2; exit 1
fi
kill $sim $ours $ideal; wait 2>/dev/null || true; trap - EXIT
BIN=$bin "$here/$what.sh" "$@"
