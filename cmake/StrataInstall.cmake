# cmake --install: headers under include/strata, the static libraries, and a
# package config so that find_package(strata) + strata::strata works.
include(CMakePackageConfigHelpers)

# strata's own warning flags (-Wall ... -Werror) are for building strata, not
# for its users: keep them out of the exported strata_flags target.
get_target_property(strata_warning_flags strata_flags INTERFACE_COMPILE_OPTIONS)
if(strata_warning_flags)
  set(strata_build_only_flags "")
  foreach(flag IN LISTS strata_warning_flags)
    list(APPEND strata_build_only_flags "$<BUILD_INTERFACE:${flag}>")
  endforeach()
  set_target_properties(strata_flags PROPERTIES INTERFACE_COMPILE_OPTIONS
                        "${strata_build_only_flags}")
endif()
get_property(strata_libs GLOBAL PROPERTY STRATA_LIBRARIES)
install(TARGETS strata strata_flags ${strata_libs}
        EXPORT strataTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/strata DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT strataTargets NAMESPACE strata:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/strata)
configure_package_config_file(cmake/strataConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/strataConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/strata)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/strataConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/strataConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/strataConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/strata)
