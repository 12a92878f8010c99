# Test plumbing shared by tests/ and every plugin's tests/ folder.
# *_test: pure unit tests. *_itest: integration tests through real nginx + shopd + PostgreSQL;
# they read SHOPD_URL, SHOPD_ADMIN_TOKEN, SHOPD_DATABASE_URL ... from the environment that
# scripts/test sets up.
pkg_check_modules(CPPUNIT REQUIRED IMPORTED_TARGET cppunit)
find_package(CURL REQUIRED)

add_library(shopd_testsupport STATIC
  ${PROJECT_SOURCE_DIR}/tests/support/runner.cpp
  ${PROJECT_SOURCE_DIR}/tests/support/http_client.cpp
  ${PROJECT_SOURCE_DIR}/tests/support/plugin_swap.cpp
  ${PROJECT_SOURCE_DIR}/tests/support/store_fixtures.cpp
  ${PROJECT_SOURCE_DIR}/tests/support/own_stack.cpp)
# OwnHost starts the host binary built here.
target_compile_definitions(shopd_testsupport PRIVATE "SHOPD_HOST_BINARY=\"$<TARGET_FILE:shopd>\"")
target_include_directories(shopd_testsupport PUBLIC ${PROJECT_SOURCE_DIR}/tests/support ${RAPIDJSON_INCLUDE_DIR})
target_link_libraries(shopd_testsupport PUBLIC PkgConfig::CPPUNIT CURL::libcurl PkgConfig::PQXX)

# shopd_test(<name> LABEL unit|integration LIBS <libs...> SOURCES <files...>)
function(shopd_test name)
  cmake_parse_arguments(T "" "LABEL" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE shopd_testsupport ${T_LIBS})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABEL}" TIMEOUT 300)
endfunction()
