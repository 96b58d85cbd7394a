# The software bill of materials of the static binary: every Debian package
# whose code is linked in, at the exact version installed, as CycloneDX JSON
# embedded in the binary (`healthgate version --sbom`). A static binary is
# otherwise opaque to image scanners.
#
# After each link, cmake/sbom.cmake reads what the build actually used -- the
# archives and objects in the link map, and the headers the compiler recorded
# for the objects taken from our own libraries (header-only Boost, fmt and
# spdlog are compiled in) -- and asks dpkg which package owns each file and at
# which version (or, for a package unpacked rather than installed, such as
# libyaml-cpp-dev:arm64 in the cross build, its debian-package record). A
# linked file that no package owns fails the build. The JSON
# is written next to the binary and added to it as the section .healthgate.sbom
# (as cargo-auditable embeds a Rust binary's dependency list), which
# common/elf_section.cpp reads back from /proc/self/exe.
#
#   healthgate_sbom(TARGET MAP)   MAP: the target's link map (-Map)

find_program(DPKG_QUERY dpkg-query REQUIRED)
if(NOT CMAKE_OBJCOPY)
  message(FATAL_ERROR "the SBOM needs objcopy (binutils) to embed it in the binary")
endif()

# Debian's name for the target architecture (purl qualifier, dpkg's :arch).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64)$")
  set(HEALTHGATE_DEB_ARCH amd64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(HEALTHGATE_DEB_ARCH arm64)
else()
  message(FATAL_ERROR "SBOM: no Debian architecture known for ${CMAKE_SYSTEM_PROCESSOR}")
endif()

function(healthgate_sbom target map)
  set(sbom ${CMAKE_CURRENT_BINARY_DIR}/${target}.cdx.json)
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -DMAP=${map} -DBINARY=$<TARGET_FILE:${target}> -DOUTPUT=${sbom}
            -DOBJCOPY=${CMAKE_OBJCOPY} -DDPKG_QUERY=${DPKG_QUERY} -DARCH=${HEALTHGATE_DEB_ARCH}
            -DNAME=${PROJECT_NAME} -DVERSION=${PROJECT_VERSION}
            -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DBUILD_DIR=${PROJECT_BINARY_DIR}
            -DCOMPILER=${CMAKE_CXX_COMPILER_ID}-${CMAKE_CXX_COMPILER_VERSION}
            "-DUNPACKED=${HEALTHGATE_UNPACKED_PACKAGES}"
            -P ${PROJECT_SOURCE_DIR}/cmake/sbom.cmake
    VERBATIM)
endfunction()
