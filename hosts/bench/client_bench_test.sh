#!/usr/bin/env bash
# ctest bench.client_pipelined: `tessera-bench client` against one memory-engine node on a free
# loopback port: a --requests bound is met exactly with pipelined connections spread over two
# threads (with and without the connection's BufferedStream), preloaded gets all hit, the
# node's CPU is reported for --node-pid, --history writes one JSON line per operation, the flags
# of the one-thread-per-connection tool still work, and bad flags or an unreachable node fail.
#   client_bench_test.sh TESSERA_NODE TESSERA_BENCH TESSERA_CHECK_HISTORY
set -euo pipefail
node_bin=$1
bench_bin=$2
check_bin=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/tessera-bench-test.XXXXXX")
node_pid=""
cleanup() {
  if [ -n "$node_pid" ]; then
    kill -TERM "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }

cat > "$work/node.toml" <<TOML
[node]
id = "bench-test"
listen = "127.0.0.1:0"
data_dir = "$work/data"
log_level = "warn"
[engine]
plugin = "memory"
[conflict]
plugin = "lww"
TOML
"$node_bin" --config "$work/node.toml" > "$work/node.out" 2> "$work/node.err" &
node_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/node.out" && break
  kill -0 "$node_pid" 2>/dev/null || break
  sleep 0.1
done
address=$(sed -n 's/.* listening on \(.*\)$/\1/p' "$work/node.out")
[ -n "$address" ] || { cat "$work/node.err" >&2; fail "the node did not start"; }

# An exact request bound over 4 connections x 8 in flight on 2 threads.
out=$("$bench_bin" client --addr "$address" --threads 2 --connections 4 --pipeline 8 \
        --requests 5000 --seconds 30 --warmup-s 0.2 --workload mixed --node-pid "$node_pid")
echo "$out"
grep -q "2 threads, 4 connections, pipeline 8 (32 requests in flight)" <<< "$out" || fail "shape"
grep -q "^result .* requests=5000 errors=0 " <<< "$out" || fail "5000 requests without errors"
grep -q "cpu of node pid $node_pid: " <<< "$out" || fail "node cpu line"
grep -q "heap allocations of the tool: " <<< "$out" || fail "allocation line"

# The same straight on the socket, without the tool's read buffer and write coalescing.
out=$("$bench_bin" client --addr "$address" -c 2 -P 4 --io-buffer-bytes 0 --requests 1000 \
        --seconds 30 --warmup-s 0 --no-preload)
grep -q "^result .* requests=1000 errors=0 " <<< "$out" || { echo "$out"; fail "unbuffered"; }

# Every get of a preloaded key finds it.
out=$("$bench_bin" client --addr "$address" -c 3 -P 4 --workload get --seconds 0.5 --warmup-s 0)
grep -q ", 0 misses, 0 errors" <<< "$out" || { echo "$out"; fail "gets missed"; }

# The flags of the earlier tool.
"$bench_bin" client --addr "$address" --connections 2 --read-ratio 0.9 --duration-s 0.3 \
  --warmup-s 0 --ops 0 --value-sizes 100:8,1000:1 --no-preload > /dev/null || fail "old flags"

# A history: one JSON line per operation, every measured request among them, gets naming the
# unique values of the puts they read (a fresh table, so nothing preloaded is read).
"$bench_bin" client --addr "$address" --table hist -c 2 -P 4 --keys 20 --requests 2000 \
  --seconds 30 --warmup-s 0 --history "$work/history.jsonl" > /dev/null || fail "history run"
lines=$(wc -l < "$work/history.jsonl")
[ "$lines" -ge 2000 ] || fail "history has $lines lines, fewer than the 2000 requests"
bad=$(grep -cv '^{"client":[0-7],"op":"\(put\|get\)","key":"k[0-9]*",.*"ok":\(true\|null\),"call":[0-9]*' \
        "$work/history.jsonl" || true)
[ "$bad" -eq 0 ] || { head -3 "$work/history.jsonl"; fail "$bad malformed history lines"; }
grep -q '"op":"get",.*"result":"c[0-7]\.[0-9]*","ok":true' "$work/history.jsonl" ||
  fail "no get read a value a put of the history wrote"
grep -q '"op":"put",.*"value":"c[0-7]\.[0-9]*","ok":true,"call":[0-9]*,"return":[0-9]*}$' \
  "$work/history.jsonl" || fail "no answered put"
# One node answers every key linearizably; the checker says so, and finds a forged stale read.
"$check_bin" "$work/history.jsonl" || fail "a single node's history is not linearizable"
printf '%s\n' '{"client":0,"op":"put","key":"z","value":"a","ok":true,"call":1,"return":2}' \
  '{"client":0,"op":"put","key":"z","value":"b","ok":true,"call":3,"return":4}' \
  '{"client":1,"op":"get","key":"z","result":"a","ok":true,"call":5,"return":6}' \
  >> "$work/history.jsonl"
if "$check_bin" "$work/history.jsonl" > "$work/check.out"; then fail "a stale read passed"; fi
grep -q "first: key z" "$work/check.out" || fail "the stale read's key is not named"
if "$bench_bin" client --addr "$address" --requests 10 --history /nonexistent/dir/h.jsonl \
     2> "$work/err" > /dev/null; then
  fail "an unwritable history accepted"
fi
grep -q -- "--history /nonexistent/dir/h.jsonl" "$work/err" || fail "history message"

# Bad flags and an unreachable node fail with a message.
if "$bench_bin" client --addr "$address" --pipeline 0 --seconds 1 2> "$work/err"; then
  fail "--pipeline 0 accepted"
fi
grep -q -- "--pipeline must be" "$work/err" || fail "--pipeline message"
if "$bench_bin" client --addr 127.0.0.1:1 --seconds 1 2> "$work/err"; then
  fail "an unreachable node accepted"
fi
grep -q "cannot reach" "$work/err" || fail "unreachable message"
echo "1 passed, 0 failed"
