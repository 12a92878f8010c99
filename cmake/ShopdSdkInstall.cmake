# The plugin SDK's install rules (COMPONENT sdk): `cmake --install build --prefix P --component
# sdk` puts under P, with relative paths only:
#   include/shopd/*.h*                  the C ABI (plugin.h) and the SDK's headers
#   include/shopd/pricing/*.hpp         the standard pricing rules and the pricing plugin's edge
#   lib/libshopd_sdk.a                  the SDK (PIC: plugins are MODULEs)
#   lib/libshopd_pricing_domain.a
#   lib/cmake/shopd/                    find_package(shopd CONFIG): targets shopd::sdk and
#                                       shopd::pricing_domain, and shopd_add_plugin()
# The targets' own install() calls are next to them (host/, plugins/pricing/).
include(CMakePackageConfigHelpers)

set(SHOPD_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/shopd)

# What SHOPD_BUILD_SIGNATURE (host/include/shopd/sdk.hpp) is made of, so an outside build can
# check it matches the host's before it builds a plugin the host would refuse.
set(SHOPD_SDK_CXX_COMPILER_ID ${CMAKE_CXX_COMPILER_ID})
set(SHOPD_SDK_CXX_COMPILER_VERSION ${CMAKE_CXX_COMPILER_VERSION})
set(SHOPD_SDK_CXX_STANDARD ${CMAKE_CXX_STANDARD})
set(SHOPD_SDK_PQXX_VERSION ${PQXX_VERSION})
# A sanitized host (SHOPD_SANITIZE) needs sanitized plugins.
set(SHOPD_SDK_EXTRA_FLAGS "")
if(SHOPD_SANITIZE)
  set(SHOPD_SDK_EXTRA_FLAGS ${SHOPD_SANITIZE_FLAGS})
endif()

install(EXPORT shopdTargets NAMESPACE shopd:: FILE shopdTargets.cmake
  DESTINATION ${SHOPD_CMAKE_INSTALL_DIR} COMPONENT sdk)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/shopdConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/shopdConfig.cmake
  INSTALL_DESTINATION ${SHOPD_CMAKE_INSTALL_DIR}
  NO_SET_AND_CHECK_MACRO NO_CHECK_REQUIRED_COMPONENTS_MACRO)
# The C++ ABI is shared with the host (see SHOPD_BUILD_SIGNATURE): only the same minor version.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/shopdConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/shopdConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/shopdConfigVersion.cmake
  DESTINATION ${SHOPD_CMAKE_INSTALL_DIR} COMPONENT sdk)
