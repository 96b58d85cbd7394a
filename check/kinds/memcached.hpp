#pragma once
// memcached:// answers as a pure function over bytes (for tests and fuzzing).
#include <cstdint>
#include <span>

#include "check/session.hpp"

namespace healthgate::check {

// The answer to `version`: "VERSION 1.6.18" is ready; an error line
// (ERROR, SERVER_ERROR ...) is not.
ProtocolAnswer parse_memcached_version(std::span<const std::uint8_t> bytes);

}  // namespace healthgate::check
