# Installs libxsave (static: C++ and C API; shared: C API), its headers, a CMake package
# (find_package(xsave) -> xsave::xsave, xsave::xsave_c) and xsave.pc for pkg-config (the C API).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS xsave xsave_c EXPORT xsaveTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${CMAKE_CURRENT_LIST_DIR}/../lib/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT xsaveTargets NAMESPACE xsave:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/xsave)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/xsaveConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/xsaveConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/xsave)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/xsaveConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/xsaveConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/xsaveConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/xsave)

configure_file(${CMAKE_CURRENT_LIST_DIR}/xsave.pc.in ${CMAKE_CURRENT_BINARY_DIR}/xsave.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/xsave.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
