// DNS answers as c-ares hands them over: the raw message of the answer
// callback, through c-ares' parsers and the resolver's own answer handling.
// The first byte picks the record type.
#include <ares.h>
#include <cstdint>

#include "check/resolver.hpp"
#include "fuzz_check.hpp"

using namespace healthgate;
using namespace healthgate::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static const DnsRecordType k_types[] = {DnsRecordType::a, DnsRecordType::aaaa, DnsRecordType::srv};
    DnsRecordType type = k_types[data[0] % 3];
    DnsAnswer answer = parse_dns_answer(ARES_SUCCESS, type, data + 1, static_cast<int>(size - 1));
    FUZZ_CHECK(answer.ok() == (answer.addresses.size() + answer.services.size() > 0));
    return 0;
}
