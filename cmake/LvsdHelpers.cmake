# lvsd_add_library(NAME SOURCES a.cc b.cc DEPS lib1 lib2)
#   One static library per subsystem; DEPS are its only allowed dependencies,
#   so the layering in DESIGN.md is enforced by the build.
function(lvsd_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# lvsd_add_test(NAME LABEL unit|netns|lab SOURCES ... DEPS ... [TIMEOUT s])
#   A GoogleTest binary registered with ctest under LABEL. Tests labelled
#   netns need root; they fail (never skip) without it.
function(lvsd_add_test name)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_LABEL)
    set(ARG_LABEL unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "LVSD_SOURCE_DIR=${CMAKE_SOURCE_DIR};LVSD_BUILD_DIR=${CMAKE_BINARY_DIR}")
endfunction()
