# Finds the Debian 12 packages gossip-learner builds on and wraps the header-only ones
# that ship no usable CMake config (tiny-dnn, Asio) in INTERFACE targets.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
# libcereal-dev: header-only, but its CMake config sits in the host's multiarch directory (the
# package is not Multi-Arch), so a cross build finds the headers alone and wraps them.
find_package(cereal CONFIG QUIET)
if(NOT cereal_FOUND)
  find_path(CEREAL_INCLUDE_DIR cereal/cereal.hpp REQUIRED)
  add_library(cereal::cereal INTERFACE IMPORTED)
  target_include_directories(cereal::cereal INTERFACE ${CEREAL_INCLUDE_DIR})
endif()
find_package(CLI11 CONFIG REQUIRED)            # libcli11-dev
find_package(nlohmann_json CONFIG REQUIRED)    # nlohmann-json3-dev
find_package(tomlplusplus CONFIG REQUIRED)     # libtomlplusplus-dev
pkg_check_modules(AVAHI REQUIRED IMPORTED_TARGET avahi-client)   # libavahi-client-dev
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)      # libsodium-dev

# Asio (libasio-dev): header-only, no CMake or pkg-config file.
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(gl_asio INTERFACE)
target_include_directories(gl_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
target_compile_definitions(gl_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(gl_asio INTERFACE Threads::Threads)

# tiny-dnn (tiny-dnn): Debian's find_package(TinyDNN) is broken and the headers do not
# compile as shipped; src/nn/tiny_dnn_compat/ supplies the missing stb stand-ins and the
# wrapper header "nn/tiny_dnn_compat/tiny_dnn.h" (see docs/ARCHITECTURE.md).
find_path(TINY_DNN_INCLUDE_DIR tiny_dnn/tiny_dnn.h REQUIRED)
add_library(gl_tiny_dnn INTERFACE)
target_include_directories(gl_tiny_dnn SYSTEM BEFORE INTERFACE
  ${CMAKE_SOURCE_DIR}/src/nn/tiny_dnn_compat/include ${TINY_DNN_INCLUDE_DIR})
target_compile_definitions(gl_tiny_dnn INTERFACE CNN_SINGLE_THREAD)
target_link_libraries(gl_tiny_dnn INTERFACE cereal::cereal)

if(GL_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(GL_BUILD_BENCH)
  find_package(benchmark CONFIG)
endif()
