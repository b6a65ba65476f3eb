# The Debian package: `cpack -G DEB` in the build directory packages what is built into
# tessera_<version>_<arch>.deb. It holds the `runtime` component (tessera-node, tessera,
# tessera-bench, libtessera's SONAME, the plugins) under /usr and the `system` component
# (/etc/tessera configs, the systemd unit). Headers, the CMake package and test helpers are
# other components and stay out. docs/OPERATIONS.md, "Debian package", describes the result.
#
# The system component is EXCLUDE_FROM_ALL: a plain `cmake --install --prefix DIR` (as
# tests/out_of_tree does) must not write to /etc or /lib/systemd of the machine.

# The installed configs: configs/*.toml with data under /var/lib/tessera/<name>, made at build
# time so that an edit of a development config reaches the package without a reconfigure.
set(tessera_installed_configs)
foreach(name IN ITEMS single dynamo leader)
  set(out ${CMAKE_BINARY_DIR}/packaging/etc/tessera/${name}.toml)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DINPUT=${CMAKE_SOURCE_DIR}/configs/${name}.toml -DOUTPUT=${out}
            -DINSTANCE=${name} -P ${CMAKE_SOURCE_DIR}/packaging/installed_config.cmake
    DEPENDS ${CMAKE_SOURCE_DIR}/configs/${name}.toml
            ${CMAKE_SOURCE_DIR}/packaging/installed_config.cmake
    COMMENT "Installed config /etc/tessera/${name}.toml")
  list(APPEND tessera_installed_configs ${out})
endforeach()
add_custom_target(tessera_installed_configs ALL DEPENDS ${tessera_installed_configs})

install(FILES ${tessera_installed_configs} DESTINATION /etc/tessera
  COMPONENT system EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/tessera@.service DESTINATION /lib/systemd/system
  COMPONENT system EXCLUDE_FROM_ALL)

# dpkg marks only the files listed in conffiles as configuration: an upgrade then keeps an
# operator's edits (or asks), instead of overwriting them.
set(tessera_conffiles "")
foreach(config IN LISTS tessera_installed_configs)
  get_filename_component(config_name ${config} NAME)
  string(APPEND tessera_conffiles "/etc/tessera/${config_name}\n")
endforeach()
file(WRITE ${CMAKE_BINARY_DIR}/packaging/conffiles "${tessera_conffiles}")

set(TESSERA_PACKAGE_MAINTAINER
  "Tessera maintainers <maintainers@users.noreply.b-seed-e636fbf6.example>"
  CACHE STRING "Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tessera)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${TESSERA_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "distributed key-value store with pluggable engines")
# Debian's long description: continuation lines are indented by CPack.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"${CPACK_PACKAGE_DESCRIPTION_SUMMARY}
Tessera is a distributed key-value store whose storage engine, conflict resolution,
placement and membership are plugins. A node runs as a single server, as an AP
(Dynamo-style) cluster or as a CP cluster of Raft-replicated key ranges.
This package holds the node (tessera-node), the command-line client (tessera), the
load generator (tessera-bench), libtessera, the plugins, example configurations
in /etc/tessera and the systemd unit tessera@.service.")
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Only these two components; "/" is where each is installed below the packaging prefix.
set(CPACK_INSTALL_CMAKE_PROJECTS
  "${CMAKE_BINARY_DIR};${PROJECT_NAME};runtime;/"
  "${CMAKE_BINARY_DIR};${PROJECT_NAME};system;/")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# The build is RelWithDebInfo; debug info would make the package ten times larger.
set(CPACK_STRIP_FILES ON)
# Depends from the ELF files' NEEDED entries (dpkg-shlibdeps, from dpkg-dev); adduser for the
# postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/packaging/postinst ${CMAKE_BINARY_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
