# tessera_add_engine_conformance_test(NAME <ctest name> PLUGIN_TARGET <target>
#                                     [DURABLE] [CONFIG <toml file>])
#
# Registers a ctest that runs the engine conformance suite (tests/conformance/engine) against
# the plugin built by <target>. DURABLE adds the reopen tests (the engine keeps synced data
# across a restart). CONFIG names a TOML file, relative to the calling folder, whose root table
# is the engine's config section.
#
# Plugin folders are added before tests/, so the suite's target may not exist yet when a plugin
# calls this; add_test resolves the target name at generate time, when every target exists.
# Out of tree, after find_package(Tessera), the installed suite (Tessera::
# tessera_engine_conformance) runs instead.
function(tessera_add_engine_conformance_test)
  cmake_parse_arguments(ARG "DURABLE" "NAME;PLUGIN_TARGET;CONFIG" "" ${ARGN})
  if(NOT ARG_NAME OR NOT ARG_PLUGIN_TARGET)
    message(FATAL_ERROR "tessera_add_engine_conformance_test: NAME and PLUGIN_TARGET are required")
  endif()
  if(TARGET Tessera::tessera_engine_conformance)
    set(runner $<TARGET_FILE:Tessera::tessera_engine_conformance>)
  elseif(TESSERA_BUILD_TESTS)
    set(runner tessera_engine_conformance)
  else()
    return()  # tests are not built
  endif()
  set(args --plugin=$<TARGET_FILE:${ARG_PLUGIN_TARGET}>)
  if(ARG_DURABLE)
    list(APPEND args --durable)
  endif()
  if(ARG_CONFIG)
    get_filename_component(config ${ARG_CONFIG} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    list(APPEND args --plugin-config=${config})
  endif()
  add_test(NAME ${ARG_NAME} COMMAND ${runner} ${args})
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "conformance" TIMEOUT 300)
endfunction()
