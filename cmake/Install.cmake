# Installs libtessera, its public headers and the CMake package that out-of-tree plugins use:
#   find_package(Tessera REQUIRED)
#   tessera_add_plugin(KIND engine NAME mine SOURCES mine.cc)
include(CMakePackageConfigHelpers)

# The SONAME file is `runtime` (what the Debian package ships, cmake/Package.cmake); the
# libtessera.so link is for building against it.
install(TARGETS tessera EXPORT TesseraTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT development
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/framework/include/tessera
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT TesseraTargets NAMESPACE Tessera::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Tessera)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/TesseraConfig.cmake.in
  ${CMAKE_BINARY_DIR}/TesseraConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Tessera)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/TesseraConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_BINARY_DIR}/TesseraConfig.cmake
  ${CMAKE_BINARY_DIR}/TesseraConfigVersion.cmake
  ${CMAKE_SOURCE_DIR}/cmake/TesseraPlugin.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Tessera)
