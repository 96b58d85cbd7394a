// What the static binary leaves out of its start-up.
//
// The exec probe runs in every pod every period, so its start-up is most of its
// cost. Two pieces of static initialisation run in every healthgate process,
// whatever the subcommand, and both are linked with --wrap (CMakeLists.txt) so
// that they land here instead. Linked only into the static healthgate binary.
//
// 1. std::ios_base::Init. With GCC 12's libstdc++ every object file that
//    includes <iostream> carries a static ios_base::Init, and yaml-cpp's do: it
//    constructs std::cout/cin/cerr/clog, their wide twins and the classic
//    locale with all its facets (about a quarter of the exec probe's
//    instructions) for streams nothing in healthgate writes to: logs go
//    through spdlog/fmt to stdio, output through stdio. Its constructor and
//    destructor become no-ops here. The eight standard stream objects are
//    wrapped too and their wrapped names are defined nowhere, so code that
//    starts using std::cout or friends fails to link ("undefined symbol:
//    __wrap__ZSt4cout") instead of writing through a stream that was never
//    constructed. Locales, string and file streams initialise lazily and are
//    unaffected.
//
// 2. OpenSSL's CPU capability probe. libcrypto's x86_64cpuid.o calls
//    OPENSSL_cpuid_setup() from the .init section, before main(): a dozen
//    CPUID instructions, and CPUID traps to the hypervisor on a virtual machine
//    (every cloud node), where it was about 8% of the exec probe's CPU time
//    (sampled with perf). Only TLS needs it, and OpenSSL calls it again itself
//    when it initialises (OPENSSL_init_crypto, on the first TLS context), so
//    the call made before main() is skipped and every later one goes through.

#include "cli/startup.hpp"

extern "C" {

void __wrap__ZNSt8ios_base4InitC1Ev(void*) {}
void __wrap__ZNSt8ios_base4InitD1Ev(void*) {}

void __real_OPENSSL_cpuid_setup();
void __wrap_OPENSSL_cpuid_setup() {
    if (healthgate::cli::g_main_started) __real_OPENSSL_cpuid_setup();
}

}  // extern "C"
