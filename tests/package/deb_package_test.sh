#!/usr/bin/env bash
# ctest package.deb: `cpack -G DEB` of the built tree into a scratch directory (it packages what
# is built; nothing is rebuilt), then checks of the .deb: its control fields (Depends computed by
# dpkg-shlibdeps), the files it holds and the ones it must not hold, and a node run from the
# unpacked tree on a copy of the installed single.toml (scratch data_dir, port 0), driven by the
# unpacked CLI, stopped with SIGTERM and expected to exit 0.
#   deb_package_test.sh CPACK CPACK_CONFIG VERSION
set -euo pipefail
cpack_bin=$1
cpack_config=$2
version=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/tessera-package-test.XXXXXX")
node_pid=""
cleanup() {
  if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then
    kill -KILL "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }

echo "== cpack -G DEB"
"$cpack_bin" -G DEB --config "$cpack_config" -B "$work/pkg" > "$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; fail "cpack"; }
debs=("$work"/pkg/*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one .deb, found: ${debs[*]}"
deb=${debs[0]}
echo "$(basename "$deb"): $(du -h "$deb" | cut -f1)"

echo "== control fields"
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = tessera ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', not $version"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
depends=$(field Depends)
echo "Depends: $depends"
# Libraries the node links come from dpkg-shlibdeps; without it only the hand-written adduser
# would be there.
for dep in adduser libc6 libcapnp libspdlog libsqlite3; do
  grep -q "\b$dep" <<< "$depends" || fail "Depends lacks $dep"
done
dpkg-deb -e "$deb" "$work/control"
[ -x "$work/control/postinst" ] || fail "no executable postinst"
grep -q "adduser --system" "$work/control/postinst" || fail "the postinst does not create the user"
for config in single dynamo leader; do
  grep -qx "/etc/tessera/$config.toml" "$work/control/conffiles" || fail "$config.toml not a conffile"
done

echo "== files"
root=$work/root
dpkg-deb -x "$deb" "$root"
(cd "$root" && find . -type f -o -type l | sort) > "$work/files"
for f in usr/bin/tessera-node usr/bin/tessera usr/bin/tessera-bench \
         etc/tessera/single.toml etc/tessera/dynamo.toml etc/tessera/leader.toml \
         lib/systemd/system/tessera@.service; do
  [ -e "$root/$f" ] || fail "missing /$f"
done
for f in usr/bin/tessera-node usr/bin/tessera usr/bin/tessera-bench; do
  [ -x "$root/$f" ] || fail "/$f is not executable"
done
# The library directory is lib or a multiarch one, whichever the build's GNUInstallDirs chose.
libtessera=$(grep -E '^\./usr/lib(/[^/]+)?/libtessera\.so\.[0-9]+$' "$work/files" | head -1)
[ -n "$libtessera" ] || fail "no libtessera.so.<soversion>"
libdir=$root/$(dirname "${libtessera#./}")
for plugin in engine_lsm engine_memory engine_btree conflict_lww conflict_vclock placement_ring \
              placement_range membership_gossip membership_raft; do
  [ -f "$libdir/tessera/plugins/tessera_$plugin.so" ] || fail "missing plugin tessera_$plugin.so"
done
# Runtime files only: the three hosts, no test programs, headers, CMake package or link-time .so.
extra_bins=$(grep '^\./usr/bin/' "$work/files" |
               grep -vxE '\./usr/bin/(tessera-node|tessera|tessera-bench)' || true)
[ -z "$extra_bins" ] || fail "unexpected programs: $extra_bins"
unwanted=$(grep -E '/include/|/cmake/|/libtessera\.so$|_test|conformance|\.capnp$' "$work/files" || true)
[ -z "$unwanted" ] || fail "files that are not runtime files: $unwanted"

unit=$root/lib/systemd/system/tessera@.service
grep -qx 'ExecStart=/usr/bin/tessera-node --config /etc/tessera/%i.toml' "$unit" || fail "ExecStart"
grep -q '^Restart=' "$unit" || fail "no Restart= in the unit"
grep -q '^LimitNOFILE=' "$unit" || fail "no LimitNOFILE= in the unit"
for config in single dynamo leader; do
  grep -qx "data_dir = \"/var/lib/tessera/$config\"" "$root/etc/tessera/$config.toml" ||
    fail "/etc/tessera/$config.toml: data_dir is not /var/lib/tessera/$config"
done

echo "== the unpacked binaries resolve their libraries"
for f in usr/bin/tessera-node usr/bin/tessera usr/bin/tessera-bench; do
  readelf -d "$root/$f" | grep -q 'RUNPATH.*\$ORIGIN' || fail "/$f has no \$ORIGIN RUNPATH"
  deps=$(env -u LD_LIBRARY_PATH ldd "$root/$f")
  ! grep -q "not found" <<< "$deps" || { echo "$deps"; fail "/$f: a library is not found"; }
  grep -q "libtessera\.so\.[0-9]* => $root/" <<< "$deps" ||
    { echo "$deps"; fail "/$f does not load the packaged libtessera"; }
done

echo "== a node from the package on the installed single.toml"
# Only data_dir and listen change; the plugins come from the node's default plugin directory.
sed -e "s|^data_dir = .*|data_dir = \"$work/data\"|" \
    -e 's|^listen = .*|listen = "127.0.0.1:0"|' \
    "$root/etc/tessera/single.toml" > "$work/single.toml"
grep -q "^data_dir = \"$work/data\"" "$work/single.toml" || fail "data_dir not replaced"
env -u LD_LIBRARY_PATH "$root/usr/bin/tessera-node" --config "$work/single.toml" \
  > "$work/node.out" 2> "$work/node.err" &
node_pid=$!
for _ in $(seq 200); do
  grep -q "listening on" "$work/node.out" && break
  kill -0 "$node_pid" 2>/dev/null || break
  sleep 0.1
done
address=$(sed -n 's/^tessera-node .* listening on \(.*\)$/\1/p' "$work/node.out")
[ -n "$address" ] || { cat "$work/node.out" "$work/node.err" >&2; fail "the node did not start"; }
echo "listening on $address"

cli=(env -u LD_LIBRARY_PATH timeout 20 "$root/usr/bin/tessera" --addr "$address")
"${cli[@]}" create-table t || fail "create-table"
"${cli[@]}" put t greeting "hello from the package" || fail "put"
value=$("${cli[@]}" get t greeting) || fail "get"
[ "$value" = "hello from the package" ] || fail "get returned '$value'"
"${cli[@]}" tables | grep -qx t || fail "the table is not listed"

echo "== SIGTERM"
kill -TERM "$node_pid"
for _ in $(seq 300); do
  kill -0 "$node_pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$node_pid" 2>/dev/null && fail "the node did not exit within 30 s of SIGTERM"
status=0
wait "$node_pid" || status=$?
node_pid=""
[ "$status" -eq 0 ] || { cat "$work/node.err" >&2; fail "the node exited $status after SIGTERM"; }
echo "1 passed, 0 failed"
