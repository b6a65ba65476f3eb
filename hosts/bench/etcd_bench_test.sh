#!/usr/bin/env bash
# ctest bench.etcd_gateway: `tessera-bench etcd` against a one-member etcd on free loopback
# ports: puts are accepted (the JSON and base64 are right), every get of a preloaded key finds
# it, a --requests bound is met, and --pipeline above 1 is refused. Skipped (77) when etcd is
# not installed (scripts/bench-peers installs it).
#   etcd_bench_test.sh TESSERA_BENCH
set -euo pipefail
bench_bin=$1
command -v etcd > /dev/null || { echo "etcd is not installed: skipped"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/tessera-etcd-test.XXXXXX")
etcd_pid=""
cleanup() {
  if [ -n "$etcd_pid" ]; then
    kill -TERM "$etcd_pid" 2>/dev/null || true
    wait "$etcd_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAILED: $*" >&2; tail -n 20 "$work/etcd.log" >&2 || true; exit 1; }

# Two free ports below the ephemeral range, never etcd's defaults.
ports=()
while [ ${#ports[@]} -lt 2 ]; do
  port=$((20000 + RANDOM % 12000))
  case " ${ports[*]:-} 2379 2380 " in *" $port "*) continue ;; esac
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
  ports+=("$port")
done
client="127.0.0.1:${ports[0]}"
etcd --name solo --data-dir "$work/data" \
  --listen-client-urls "http://$client" --advertise-client-urls "http://$client" \
  --listen-peer-urls "http://127.0.0.1:${ports[1]}" \
  --initial-advertise-peer-urls "http://127.0.0.1:${ports[1]}" \
  --initial-cluster "solo=http://127.0.0.1:${ports[1]}" --logger zap --log-level warn \
  > "$work/etcd.log" 2>&1 &
etcd_pid=$!

# Ready once a put is accepted (the member elects itself within a few seconds).
ready=0
for _ in $(seq 40); do
  if "$bench_bin" etcd --addr "$client" -c 1 --workload put --requests 1 --warmup-s 0 \
       --no-preload > /dev/null 2>&1; then
    ready=1
    break
  fi
  kill -0 "$etcd_pid" 2>/dev/null || break
  sleep 0.25
done
[ $ready -eq 1 ] || fail "etcd did not accept a put"

out=$("$bench_bin" etcd --addr "$client" -c 4 --keys 500 --workload get --requests 2000 \
        --seconds 30 --warmup-s 0 --node-pid "$etcd_pid")
echo "$out"
grep -q "^result .* requests=2000 errors=0 " <<< "$out" || fail "2000 gets without errors"
grep -q ", 0 misses, 0 errors" <<< "$out" || fail "a preloaded key was missing"
grep -q "cpu of node pid $etcd_pid: " <<< "$out" || fail "etcd cpu line"

out=$("$bench_bin" etcd --addr "$client" -c 4 --keys 500 --value-sizes 1,2,3,100 \
        --workload put --seconds 0.5 --warmup-s 0 --no-preload)
grep -q "^result .* errors=0 " <<< "$out" || { echo "$out"; fail "puts of every base64 tail"; }

if "$bench_bin" etcd --addr "$client" --pipeline 2 --seconds 1 2> "$work/err"; then
  fail "--pipeline 2 accepted"
fi
grep -q -- "--pipeline must be 1" "$work/err" || fail "--pipeline message"
echo "1 passed, 0 failed"
