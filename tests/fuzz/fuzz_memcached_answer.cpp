// A memcached server's answer to `version`.
#include "check/kinds/memcached.hpp"
#include "fuzz_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check_protocol_answer(healthgate::check::parse_memcached_version(fuzz_bytes(data, size)), size);
    return 0;
}
