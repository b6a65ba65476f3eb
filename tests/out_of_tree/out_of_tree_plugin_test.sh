#!/usr/bin/env bash
# usage: out_of_tree_plugin_test.sh <tessera build dir> <example plugin source dir>
set -euo pipefail
build_dir="$1"
example_dir="$2"
work="$(mktemp -d)"
node_pid=""
cleanup() {
  if [ -n "$node_pid" ]; then kill -KILL "$node_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== install into $work/prefix"
cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
prefix="$work/prefix"

echo "== build the example plugin against the installed tree"
cmake -S "$example_dir" -B "$work/example" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  > "$work/configure.log"
cmake --build "$work/example" > "$work/build.log"
plugin="$work/example/tessera_engine_snapshot_map.so"
test -f "$plugin"

echo "== conformance suite on the example plugin"
"$prefix/bin/tessera_engine_conformance" --plugin="$plugin"

echo "== a node loads it"
cat > "$work/node.toml" <<TOML
[node]
id = "example"
listen = "127.0.0.1:0"
data_dir = "$work/data"
[plugins]
dirs = ["$work/example"]
[engine]
plugin = "snapshot_map"
TOML
"$prefix/bin/tessera-node" --config "$work/node.toml" > "$work/node.out" 2> "$work/node.err" &
node_pid=$!
address=""
for _ in $(seq 1 100); do
  address=$(sed -n 's/^tessera-node .* listening on \(.*\)$/\1/p' "$work/node.out")
  [ -n "$address" ] && break
  if ! kill -0 "$node_pid" 2>/dev/null; then cat "$work/node.err"; exit 1; fi
  sleep 0.1
done
if [ -z "$address" ]; then echo "node did not start"; cat "$work/node.err"; exit 1; fi

cli=("$prefix/bin/tessera" --addr "$address")
"${cli[@]}" create-table things
"${cli[@]}" put things answer 42
test "$("${cli[@]}" get things answer)" = "42"

kill -TERM "$node_pid"
wait "$node_pid"
node_pid=""
echo "out-of-tree plugin: OK"
