# CMake toolchain for 64-bit Raspberry Pi OS / Debian arm64 (Pi 3, 3B+, 4, 5, Zero 2 W), built on
# Debian 12 x86-64 with crossbuild-essential-arm64 (tools/cross-build arm64 sets it all up).
# armv8-a is the baseline every 64-bit Pi runs (Cortex-A53 has no armv8.2 extensions); tuning
# follows the Pi 4's Cortex-A72, whose scheduling also suits the A76 of the Pi 5.
set(GL_CROSS_TRIPLE aarch64-linux-gnu)
set(GL_CROSS_PROCESSOR aarch64)
set(GL_CROSS_QEMU qemu-aarch64-static)
set(GL_CROSS_CPU_FLAGS "-march=armv8-a -mtune=cortex-a72")
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
