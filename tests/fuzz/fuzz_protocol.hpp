#pragma once
// What every protocol answer parser of a check kind promises, whatever the
// server sent: it never claims more bytes than it was given, and what it says
// (a reason that lands in a log line and the termination message) is one line.
#include <cstddef>
#include <cstdint>
#include <span>

#include "check/session.hpp"
#include "fuzz_check.hpp"

inline std::span<const std::uint8_t> fuzz_bytes(const std::uint8_t* data, std::size_t size) { return {data, size}; }

inline void check_protocol_answer(const healthgate::check::ProtocolAnswer& answer, std::size_t size) {
    using Verdict = healthgate::check::ProtocolAnswer::Verdict;
    FUZZ_CHECK(answer.consumed <= size);
    FUZZ_CHECK(answer.text.find('\n') == std::string::npos);
    if (answer.verdict == Verdict::incomplete) FUZZ_CHECK(answer.failure == healthgate::check::Failure::none);
}
