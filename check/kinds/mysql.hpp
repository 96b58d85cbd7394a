#pragma once
// mysql:// answers as pure functions over bytes (for tests and fuzzing).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "check/session.hpp"

namespace healthgate::check {

// The server's first packet: a protocol-10 greeting (ready; names the server
// version) or an error packet (1040 too many connections, 1129 host blocked,
// ...: not ready, with code and message; but 1130, no login allowed from this
// host, proves the server is up). `consumed`: the packet's size.
ProtocolAnswer parse_mysql_greeting(std::span<const std::uint8_t> bytes);

// The answer to our login attempt (no password): OK, an error such as 1045
// access denied, or an authentication switch all mean the server handles
// logins (ready); only a "too many connections"-like error is not ready.
ProtocolAnswer parse_mysql_login_reply(std::span<const std::uint8_t> bytes);

// HandshakeResponse41 for `user` without a password (sequence id 1).
std::string mysql_login_request(std::string_view user);

}  // namespace healthgate::check
