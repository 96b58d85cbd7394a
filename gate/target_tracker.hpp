#pragma once
// What `wait` knows about each target: attempts, the last failure, since
// when. Pure: time comes in as an argument. Decides when a log line is due,
// so the default log has one line per change, not one per attempt.
//
// Scenarios:  first failure            -> Change::failing   (logged)
//             same failure kind again  -> Change::none      (counted only)
//             another failure kind     -> Change::reason    (logged)
//             success                  -> Change::ready     (logged, stops checking)
#include <chrono>
#include <string>

#include "check/check.hpp"
#include "common/target.hpp"

namespace healthgate::gate {

using Clock = std::chrono::steady_clock;

struct TargetStatus {
    Target target;
    bool ready = false;
    int attempts = 0;
    check::Failure last_failure = check::Failure::none;
    std::string last_reason{};
    Duration last_latency{0};
    Clock::time_point failing_since{};
    Clock::time_point ready_at{};
};

enum class Change { none, failing, reason, ready };

Change record_attempt(TargetStatus& status, const check::CheckResult& result, Clock::time_point now);

}  // namespace healthgate::gate
