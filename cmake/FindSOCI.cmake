# FindSOCI: Debian's libsoci-dev (4.0.3) ships neither a CMake config nor a pkg-config file.
# Creates SOCI::core and, per requested component, SOCI::sqlite3 / SOCI::postgresql.
# Only the store/ module may link these (see README "Architecture").
find_path(SOCI_INCLUDE_DIR NAMES soci/soci.h)
find_library(SOCI_CORE_LIBRARY NAMES soci_core)
set(_soci_required SOCI_INCLUDE_DIR SOCI_CORE_LIBRARY)

foreach(_component IN LISTS SOCI_FIND_COMPONENTS)
  find_library(SOCI_${_component}_LIBRARY NAMES soci_${_component})
  if(SOCI_${_component}_LIBRARY)
    set(SOCI_${_component}_FOUND TRUE)
  endif()
endforeach()

if("postgresql" IN_LIST SOCI_FIND_COMPONENTS)
  # soci/postgresql/soci-postgresql.h includes <libpq-fe.h>, which Debian puts under postgresql/.
  find_package(PostgreSQL REQUIRED)
endif()
if("sqlite3" IN_LIST SOCI_FIND_COMPONENTS)
  find_package(SQLite3 REQUIRED)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(SOCI REQUIRED_VARS ${_soci_required} HANDLE_COMPONENTS)

if(SOCI_FOUND AND NOT TARGET SOCI::core)
  add_library(SOCI::core UNKNOWN IMPORTED)
  set_target_properties(SOCI::core PROPERTIES
    IMPORTED_LOCATION "${SOCI_CORE_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SOCI_INCLUDE_DIR}")
  if(SOCI_sqlite3_FOUND)
    add_library(SOCI::sqlite3 UNKNOWN IMPORTED)
    set_target_properties(SOCI::sqlite3 PROPERTIES IMPORTED_LOCATION "${SOCI_sqlite3_LIBRARY}")
    target_link_libraries(SOCI::sqlite3 INTERFACE SOCI::core SQLite::SQLite3)
  endif()
  if(SOCI_postgresql_FOUND)
    add_library(SOCI::postgresql UNKNOWN IMPORTED)
    set_target_properties(SOCI::postgresql PROPERTIES IMPORTED_LOCATION "${SOCI_postgresql_LIBRARY}")
    target_link_libraries(SOCI::postgresql INTERFACE SOCI::core PostgreSQL::PostgreSQL)
  endif()
endif()
mark_as_advanced(SOCI_INCLUDE_DIR SOCI_CORE_LIBRARY SOCI_sqlite3_LIBRARY SOCI_postgresql_LIBRARY)
