# idgate_add_adapter(<name> SOURCES ... INCLUDES ... LIBRARIES ... [NO_INSTALL]): a loadable adapter
# (core/adapter.hpp), built as idgate_<name>_adapter.so beside the idgate executable and installed in
# ${IDGATE_ADAPTER_INSTALL_DIR} (not with NO_INSTALL: the tests' own). It links no idgate library, only
# idgate::core_for_adapters, and every symbol it needs must resolve when it is linked (-z defs), so a
# missing piece is a build error, not a failure at the first sign-in. Only its entry is exported.
function(idgate_add_adapter name)
  cmake_parse_arguments(ARG "NO_INSTALL" "" "SOURCES;INCLUDES;LIBRARIES" ${ARGN})
  set(target idgate_${name}_adapter)
  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES PREFIX "" LIBRARY_OUTPUT_DIRECTORY "${IDGATE_ADAPTER_DIR}"
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_include_directories(${target} PRIVATE ${ARG_INCLUDES})
  target_link_libraries(${target} PRIVATE idgate::core_for_adapters ${ARG_LIBRARIES})
  target_link_options(${target} PRIVATE LINKER:-z,defs LINKER:--exclude-libs,ALL)
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION "${IDGATE_ADAPTER_INSTALL_DIR}")
  endif()
endfunction()
