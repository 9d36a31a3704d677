# idgate_add_boost_tests(<target> LABELS ... SOURCES ... [PREFIX p])
# Registers one CTest test per BOOST_AUTO_TEST_SUITE / BOOST_FIXTURE_TEST_SUITE found in SOURCES,
# running `<target> --run_test=<suite>`. Exit code 77 means "skipped" (a test that cannot run says so
# instead of passing).
function(idgate_add_boost_tests target)
  cmake_parse_arguments(ARG "" "PREFIX" "LABELS;SOURCES" ${ARGN})
  foreach(source IN LISTS ARG_SOURCES)
    file(READ "${CMAKE_CURRENT_SOURCE_DIR}/${source}" content)
    string(REGEX MATCHALL "BOOST_(AUTO|FIXTURE)_TEST_SUITE\\(([A-Za-z0-9_]+)" suites "${content}")
    foreach(match IN LISTS suites)
      string(REGEX REPLACE ".*\\(([A-Za-z0-9_]+)$" "\\1" suite "${match}")
      set(name "${ARG_PREFIX}${suite}")
      add_test(NAME ${name} COMMAND ${target} --run_test=${suite} --catch_system_errors=no --log_level=message)
      set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" SKIP_RETURN_CODE 77 TIMEOUT 300)
    endforeach()
  endforeach()
  # Re-run CMake when a suite is added or renamed.
  list(TRANSFORM ARG_SOURCES PREPEND "${CMAKE_CURRENT_SOURCE_DIR}/")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${ARG_SOURCES})
endfunction()
