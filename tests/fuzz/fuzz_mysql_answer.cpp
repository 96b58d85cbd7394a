// A MySQL/MariaDB server's greeting (protocol 10, or an error packet instead)
// and its answer to the password-less login.
#include "check/kinds/mysql.hpp"
#include "fuzz_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check_protocol_answer(healthgate::check::parse_mysql_greeting(fuzz_bytes(data, size)), size);
    check_protocol_answer(healthgate::check::parse_mysql_login_reply(fuzz_bytes(data, size)), size);
    return 0;
}
