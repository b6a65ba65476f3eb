# tessera_add_plugin(KIND <engine|placement|conflict|membership> NAME <name>
#                    SOURCES <files...> [LIBRARIES <libs...>])
#
# Builds one plugin as a MODULE library named tessera_<kind>_<name>.so (the file name the host
# resolves a short plugin name to) and installs it into <libdir>/tessera/plugins. The CMake
# target is called tessera_<kind>_<name> too. Used in this tree and, through
# find_package(Tessera), by plugins built out of tree.
function(tessera_add_plugin)
  cmake_parse_arguments(ARG "" "KIND;NAME" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_KIND MATCHES "^(engine|placement|conflict|membership)$")
    message(FATAL_ERROR "tessera_add_plugin: KIND must be engine, placement, conflict or membership")
  endif()
  set(target tessera_${ARG_KIND}_${ARG_NAME})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE Tessera::tessera ${ARG_LIBRARIES})
  # Header-only libraries (Boost among them) emit STB_GNU_UNIQUE symbols, which would pin the
  # plugin in memory forever; without them the library unloads with its last object.
  target_compile_options(${target} PRIVATE -fno-gnu-unique)
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(TESSERA_PLUGIN_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES
      LIBRARY_OUTPUT_DIRECTORY ${TESSERA_PLUGIN_OUTPUT_DIRECTORY})
  endif()
  include(GNUInstallDirs)
  install(TARGETS ${target} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/tessera/plugins
          COMPONENT runtime)
endfunction()
