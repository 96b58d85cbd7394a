# Cross build for linux/arm64 with Debian's cross toolchain and the arm64
# -dev packages installed side by side (multiarch: dpkg --add-architecture
# arm64; scripts/install-deps --arm64 does both):
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake
# Programs built for the target (Beast's field-name generator, Catch2's test
# discovery, the tests) run under qemu-user, called explicitly because binfmt
# may not be registered (in a container it usually is not).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
find_program(HEALTHGATE_QEMU_AARCH64 qemu-aarch64-static REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${HEALTHGATE_QEMU_AARCH64})
# Headers are shared by both architectures under /usr/include; libraries and
# CMake packages must come from the arm64 directories, never the build host's.
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/cmake)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
# -dev packages that cannot be installed beside the native ones are unpacked
# (scripts/unpack-deb, run by scripts/install-deps --arm64); each is a prefix
# searched first, and cmake/sbom.cmake reads which package it is.
set(HEALTHGATE_UNPACKED_PACKAGES /opt/healthgate/arm64/libyaml-cpp-dev CACHE STRING
    "Unpacked Debian packages (each DIR holds DIR/usr and DIR/debian-package)")
foreach(root IN LISTS HEALTHGATE_UNPACKED_PACKAGES)
  if(NOT EXISTS ${root}/debian-package)
    message(FATAL_ERROR "${root} is not an unpacked Debian package: run scripts/install-deps --arm64")
  endif()
  list(APPEND CMAKE_PREFIX_PATH ${root}/usr)
  string(APPEND CMAKE_CXX_FLAGS_INIT " -isystem ${root}/usr/include")
endforeach()
