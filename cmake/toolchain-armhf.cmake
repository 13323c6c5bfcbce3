# CMake toolchain for 32-bit Raspberry Pi OS / Debian armhf on Pi 2 and later (Cortex-A7 and up:
# armv7-a with NEON and VFPv4), built on Debian 12 x86-64 with crossbuild-essential-armhf
# (tools/cross-build armhf). The Pi 1 and Zero (armv6) are not targets.
set(GL_CROSS_TRIPLE arm-linux-gnueabihf)
set(GL_CROSS_PROCESSOR armv7l)
set(GL_CROSS_QEMU qemu-arm-static)
set(GL_CROSS_CPU_FLAGS "-march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard -mtune=cortex-a72")
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
