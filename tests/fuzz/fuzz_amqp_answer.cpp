// An AMQP server's answer to the protocol header: Connection.Start with its
// server-properties table, a protocol header of another version, junk.
#include "check/kinds/amqp.hpp"
#include "fuzz_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check_protocol_answer(healthgate::check::parse_amqp_start(fuzz_bytes(data, size)), size);
    return 0;
}
