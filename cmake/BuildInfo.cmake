# Describes this build for `gossip-learner --version`: version, git commit (read from the
# checkout when cmake configures; "unknown" outside a git checkout, never fetched), compiler and
# flags. Generates ${CMAKE_BINARY_DIR}/generated/node/build_info_values.h.
find_package(Git QUIET)
set(GL_GIT_COMMIT unknown)
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${CMAKE_SOURCE_DIR} describe --always --dirty --abbrev=12
    OUTPUT_VARIABLE commit RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(rc EQUAL 0)
    set(GL_GIT_COMMIT ${commit})
  endif()
endif()
string(TOUPPER "${CMAKE_BUILD_TYPE}" build_type)
string(JOIN " " GL_BUILD_FLAGS ${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${build_type}} ${GL_ARCH_FLAGS})
string(STRIP "${GL_BUILD_FLAGS}" GL_BUILD_FLAGS)
get_filename_component(GL_COMPILER_NAME ${CMAKE_CXX_COMPILER} NAME)
set(GL_COMPILER "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION} (${GL_COMPILER_NAME})")
configure_file(${CMAKE_SOURCE_DIR}/src/node/build_info_values.h.in
  ${CMAKE_BINARY_DIR}/generated/node/build_info_values.h @ONLY)
