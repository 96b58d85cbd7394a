// A Postgres server's first answer to the StartupMessage (or the SSLRequest's
// one byte): authentication requests, ErrorResponse with SQLSTATE, junk.
#include "check/kinds/postgres.hpp"
#include "fuzz_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check_protocol_answer(healthgate::check::parse_postgres_reply(fuzz_bytes(data, size)), size);
    return 0;
}
