# bitnet_add_plugin(<target> NAME <plugin-name> SOURCES <files...> [VERSION <x.y.z>]
#                   [OUTPUT_DIR <dir>] [NO_INSTALL])
#
# Builds a plugin as a shared module named bitnet-<plugin-name>.so against the SDK only:
# hidden visibility and a version script (only the three entry points are exported), no
# undefined symbols, and
# installed into lib/bitnet/plugins. Used in-tree and, through find_package(bitnet-sdk), by
# out-of-tree plugins.
set(_bitnet_plugin_map "${CMAKE_CURRENT_LIST_DIR}/bitnet-plugin.map")

function(bitnet_add_plugin target)
  cmake_parse_arguments(ARG "NO_INSTALL" "NAME;OUTPUT_DIR;VERSION" "SOURCES" ${ARGN})
  if(NOT ARG_NAME)
    message(FATAL_ERROR "bitnet_add_plugin(${target}): NAME is required")
  endif()
  if(NOT ARG_VERSION)
    set(ARG_VERSION "${PROJECT_VERSION}")
  endif()
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE bitnet::sdk)
  target_compile_definitions(${target} PRIVATE BITNET_PLUGIN_VERSION="${ARG_VERSION}")
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "bitnet-${ARG_NAME}"
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${target} PRIVATE -Wl,--no-undefined
    "-Wl,--version-script=${_bitnet_plugin_map}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${_bitnet_plugin_map}")
  if(ARG_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIR}")
  elseif(DEFINED BITNET_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY
                                               "${BITNET_PLUGIN_OUTPUT_DIR}")
  endif()
  if(NOT ARG_NO_INSTALL)
    if(DEFINED BITNET_PLUGIN_INSTALL_DIR)
      set(dest "${BITNET_PLUGIN_INSTALL_DIR}")
    else()
      include(GNUInstallDirs)
      set(dest "${CMAKE_INSTALL_LIBDIR}/bitnet/plugins")
    endif()
    install(TARGETS ${target} LIBRARY DESTINATION "${dest}")
  endif()
endfunction()
