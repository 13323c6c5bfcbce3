# Shared part of the Debian multiarch cross toolchains (toolchain-arm64.cmake, toolchain-armhf.cmake).
# The including file sets GL_CROSS_TRIPLE (GNU triplet), GL_CROSS_PROCESSOR, GL_CROSS_QEMU and
# GL_CROSS_CPU_FLAGS. Libraries come from the -dev:<arch> packages installed beside the host's
# (multiarch: sysroot is /, the target's libraries live in /usr/lib/<triplet>); header-only and
# arch-independent packages are shared with the host. Tests run under qemu-user-static.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${GL_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER ${GL_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${GL_CROSS_TRIPLE}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${GL_CROSS_TRIPLE})
set(PKG_CONFIG_EXECUTABLE ${GL_CROSS_TRIPLE}-pkg-config)

# The target CPU is named here, never guessed from the build machine (CMakeLists.txt drops
# -march=native whenever CMAKE_CROSSCOMPILING is set).
# -Wno-psabi: GCC notes where an ABI changed in GCC 7.1 or 10.1 (pair and map arguments); every
# part of the binary is built by the same GCC 12, so those notes are noise.
set(CMAKE_C_FLAGS_INIT "${GL_CROSS_CPU_FLAGS} -Wno-psabi")
set(CMAKE_CXX_FLAGS_INIT "${GL_CROSS_CPU_FLAGS} -Wno-psabi")

# Host programs (protoc-like tools, python) from the build machine; libraries and headers
# from the target's multiarch directories first, then the shared /usr/include.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

# ctest and gtest_discover_tests run target binaries through qemu. No -L /usr/<triplet>: that
# prefix holds the cross toolchain's libc (libc6-<arch>-cross), whose ld.so then loads the newer
# multiarch libc.so.6 (libc6:<arch>, pulled in by the -dev:<arch> packages); the mismatched pair
# hangs in the first pthread_create. Without -L both come from the multiarch libc6:<arch>.
find_program(GL_QEMU_USER ${GL_CROSS_QEMU})
if(GL_QEMU_USER)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${GL_QEMU_USER})
endif()
