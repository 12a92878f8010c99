# shopd_add_plugin(<name> [OBJECTS <object libraries...>])
#
# The one layout every plugin folder has: <name>_domain.cpp (pure logic, the only code unit
# tests link) becomes the OBJECT library <name>_domain; <name>_plugin.cpp plus those objects
# (and any OBJECTS given, e.g. SQL shared with a command-line tool) become the MODULE <name>.so
# that the host dlopen()s. Both link the SDK; the module is named without the "lib" prefix.
function(shopd_add_plugin name)
  cmake_parse_arguments(P "" "" "OBJECTS" ${ARGN})
  add_library(${name}_domain OBJECT ${name}_domain.cpp)
  target_include_directories(${name}_domain PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${name}_domain PUBLIC shopd_sdk)

  set(objects $<TARGET_OBJECTS:${name}_domain>)
  foreach(lib IN LISTS P_OBJECTS)
    list(APPEND objects $<TARGET_OBJECTS:${lib}>)
  endforeach()
  add_library(${name} MODULE ${name}_plugin.cpp ${objects})
  target_link_libraries(${name} PRIVATE shopd_sdk)
  set_target_properties(${name} PROPERTIES PREFIX "")
endfunction()
