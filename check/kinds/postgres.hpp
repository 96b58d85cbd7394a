#pragma once
// postgres:// answers as pure functions over bytes (for tests and fuzzing).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "check/session.hpp"

namespace healthgate::check {

// The StartupMessage (protocol 3.0) for `user` and `database`.
std::string postgres_startup_message(std::string_view user, std::string_view database);
// The SSLRequest message.
std::string postgres_ssl_request();

// The server's answer to a StartupMessage: an authentication request (ready),
// or an ErrorResponse classified by its SQLSTATE: 28P01, 28000 and 3D000 prove
// it accepts connections (ready); 57P03 (starting up, shutting down, a standby
// that takes no connections), 53300 (too many connections), 57P01/57P02 and
// any other are not ready. Every error is reported as "SQLSTATE message".
ProtocolAnswer parse_postgres_reply(std::span<const std::uint8_t> bytes);

}  // namespace healthgate::check
