#pragma once
#include <chrono>
#include <string>
#include <string_view>

#include "common/expected.hpp"

namespace healthgate {

using Duration = std::chrono::milliseconds;

// Parses Go/Kubernetes-style durations: "250ms", "2s", "1m30s", "1h", "1.5s".
// A bare number is rejected (ambiguous): the unit is required, except "0".
Expected<Duration> parse_duration(std::string_view text);

// "1.2s", "250ms", "3m04s": short, for logs and the termination message.
std::string format_duration(Duration d);

}  // namespace healthgate
