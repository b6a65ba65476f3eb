# cmake -DINPUT=configs/<name>.toml -DOUTPUT=<file> -DINSTANCE=<name> -P installed_config.cmake
#
# Writes the variant of a development config that the Debian package installs as
# /etc/tessera/<name>.toml: the development header (which describes scripts/run) is replaced and
# data_dir points at /var/lib/tessera/<name>, the directory tessera@<name>.service gives the
# node; a cluster_secret_file points at /etc/tessera/<name>.secret, which the operator makes
# (docs/OPERATIONS.md). Everything else is kept as written, so the installed configs follow the
# development ones.
foreach(var INPUT OUTPUT INSTANCE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "installed_config.cmake: ${var} is not set")
  endif()
endforeach()
file(READ "${INPUT}" text)
# The leading comment block is the development header.
string(REGEX REPLACE "^(#[^\n]*\n)+\n*" "" body "${text}")
string(REGEX MATCHALL "\ndata_dir = \"[^\"]*\"" found "${body}")
list(LENGTH found count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "${INPUT}: expected one data_dir line, found ${count}")
endif()
# The line's comment, if any, is about the development path, so it goes too.
string(REGEX REPLACE "\ndata_dir = \"[^\"]*\"[^\n]*" "\ndata_dir = \"/var/lib/tessera/${INSTANCE}\""
       body "${body}")
string(REGEX REPLACE "\ncluster_secret_file = \"[^\"]*\"[^\n]*"
       "\ncluster_secret_file = \"/etc/tessera/${INSTANCE}.secret\"" body "${body}")
set(header
"# Installed by the tessera package; `systemctl start tessera@${INSTANCE}` runs a node on it.
# Data lives in /var/lib/tessera/${INSTANCE}, which the unit creates for the tessera user.
# A multi-node profile (dynamo, leader) needs [node] id and listen, and the seeds or peers,
# set for this host first, and the cluster's secret in /etc/tessera/${INSTANCE}.secret (mode 0600,
# owned by tessera; the same bytes on every node). Every key is documented in docs/CONFIG.md of
# the source tree.
")
file(WRITE "${OUTPUT}.tmp" "${header}\n${body}")
# Only a changed file is replaced, so an unchanged config does not look rebuilt.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
