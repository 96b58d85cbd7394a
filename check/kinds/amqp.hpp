#pragma once
// amqp:// answers as a pure function over bytes (for tests and fuzzing).
#include <cstdint>
#include <span>

#include "check/session.hpp"

namespace healthgate::check {

// The answer to the AMQP 0-9-1 protocol header: a Connection.Start method
// frame is ready (its text names the server's product and version); a
// protocol header back means the server speaks another version.
ProtocolAnswer parse_amqp_start(std::span<const std::uint8_t> bytes);

}  // namespace healthgate::check
