#!/usr/bin/env bash
# Load figures for `bitnet serve` on loopback: throughput and p50/p99 latency at 1, 4 and 16
# concurrent streams on a small generated model, then the server's RSS across 10,000 requests.
# Usage: tools/bench-server.sh [BUILD_DIR] (default build/); BITNET_BENCH_REQUESTS=N per level
# (default 200), BITNET_BENCH_SOAK=N soak requests (default 10000), BITNET_BENCH_TOKENS=M (32).
# Only 127.0.0.1 is ever contacted.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$build/bin
requests=${BITNET_BENCH_REQUESTS:-200}
soak=${BITNET_BENCH_SOAK:-10000}
tokens=${BITNET_BENCH_TOKENS:-32}
work=$(mktemp -d)
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi; rm -rf "$work"' EXIT

# A small generated model: BitNet b1.58 with I2_S weights, 256 wide, 4 layers (2.4M
# parameters), the shape of the server tests' slow model.
"$bin/bitnet-random-model" --arch bitnet-b1.58 --weights I2_S --embedding F16 --embd 256 \
  --layers 4 --ff 512 --ctx 1024 --out "$work/model.gguf" >/dev/null

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }

start_server() {
  "$bin/bitnet" serve --model "$work/model.gguf" --port 0 --parallel 16 --queue 64 "$@" \
    2>"$work/server.log" &
  pid=$!
  for _ in $(seq 100); do
    grep -q "server: ready" "$work/server.log" 2>/dev/null && break
    sleep 0.1
  done
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/server.log" | grep -o '[0-9]*$')
  url=http://127.0.0.1:$port
  grep "server: ready" "$work/server.log"
}

stop_server() {
  kill -TERM "$pid"
  wait "$pid"
  echo "server exited $?"
}

for mode in batched sequential; do
  if [ "$mode" = batched ]; then start_server; else start_server --no-batch-decode; fi
  node tools/server-load.cjs "$url" 4 32 "$tokens" >/dev/null  # warm-up
  for c in 1 4 16; do
    echo "$mode $(node tools/server-load.cjs "$url" "$c" "$requests" "$tokens")"
  done
  stop_server
done

start_server
node tools/server-load.cjs "$url" 16 200 16 >/dev/null  # warm-up
echo "soak: RSS before: $(rss_kib) KiB"
done_n=0
while [ "$done_n" -lt "$soak" ]; do
  n=$(( soak - done_n < 1000 ? soak - done_n : 1000 ))
  line=$(node tools/server-load.cjs "$url" 16 "$n" 16)
  done_n=$(( done_n + n ))
  echo "soak: $done_n requests, RSS $(rss_kib) KiB, $line"
done
stop_server
