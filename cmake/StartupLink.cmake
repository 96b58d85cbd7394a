# The exec probe's start-up tricks, applied to the static healthgate binary
# (cli/startup.cpp and ARCHITECTURE.md say why each one pays). Each is checked
# after every link against the link map, so that a toolchain or code change
# that makes one useless fails the build instead of leaving a dead trick:
#   - every --wrap must still catch a caller (its __wrap_ function survives
#     --gc-sections), otherwise the wrap is stale and should go;
#   - most of probe/hot-symbols.txt must still name symbols of the binary,
#     otherwise the order is stale: regenerate it (bench/probe/hot_symbols.py).
#
#   healthgate_startup_link(TARGET MAP)   MAP: the target's link map (-Map)

# Wrapped to a no-op or a guarded call in cli/startup.cpp: checked as above.
set(HEALTHGATE_WRAPPED_CALLS _ZNSt8ios_base4InitC1Ev _ZNSt8ios_base4InitD1Ev OPENSSL_cpuid_setup)
# Wrapped to names defined nowhere, so that using a standard stream fails to link.
set(HEALTHGATE_WRAPPED_STREAMS _ZSt4cout _ZSt3cin _ZSt4cerr _ZSt4clog _ZSt5wcout _ZSt4wcin _ZSt5wcerr _ZSt5wclog)
# The order was measured on x86_64; below this share of its names found in the
# binary it is considered stale.
set(HEALTHGATE_HOT_SYMBOLS_MIN_PERCENT 90)

find_program(LLD_PROGRAM ld.lld)

function(healthgate_startup_link target map)
  target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/cli/startup.cpp)
  set(wraps ${HEALTHGATE_WRAPPED_CALLS} ${HEALTHGATE_WRAPPED_STREAMS})
  list(TRANSFORM wraps PREPEND "-Wl,--wrap=")
  target_link_options(${target} PRIVATE ${wraps})

  # lld lays out the functions the probe runs together; without lld the binary
  # is the same, only less compact. The list names x86_64 symbols (glibc's
  # string functions differ per architecture), so other targets skip it but
  # still link with lld: GNU ld warns about each glibc NSS function (dlopen,
  # getaddrinfo, getservbyname...) that the static libcrypto and c-ares
  # reference, and healthgate resolves names through c-ares on its own.
  set(hot_symbols "")
  if(LLD_PROGRAM)
    target_link_options(${target} PRIVATE -fuse-ld=lld)
    if(CMAKE_CROSSCOMPILING)
      # A cross GCC looks for ld.lld only in its own directories: show it one.
      file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/lld)
      file(CREATE_LINK ${LLD_PROGRAM} ${CMAKE_BINARY_DIR}/lld/ld.lld SYMBOLIC)
      target_link_options(${target} PRIVATE -B${CMAKE_BINARY_DIR}/lld/)
    endif()
  endif()
  if(LLD_PROGRAM AND CMAKE_SYSTEM_PROCESSOR STREQUAL "x86_64")
    set(hot_symbols ${PROJECT_SOURCE_DIR}/probe/hot-symbols.txt)
    target_link_options(${target} PRIVATE -Wl,--symbol-ordering-file=${hot_symbols}
                        -Wl,--no-warn-symbol-ordering)
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${hot_symbols})
  endif()

  string(JOIN "," calls ${HEALTHGATE_WRAPPED_CALLS})
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -DMAP=${map} -DBINARY=$<TARGET_FILE:${target}> "-DCALLS=${calls}"
            -DHOT_SYMBOLS=${hot_symbols} -DMIN_PERCENT=${HEALTHGATE_HOT_SYMBOLS_MIN_PERCENT}
            -P ${PROJECT_SOURCE_DIR}/cmake/check_startup_link.cmake
    VERBATIM)
endfunction()
