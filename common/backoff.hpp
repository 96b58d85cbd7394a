#pragma once
// Exponential backoff with jitter. Pure: the random source is a number in
// [0, 1) passed in by the caller, so tests pin every delay.
#include "common/duration.hpp"
#include <optional>
#include <string>

#include "common/expected.hpp"

namespace healthgate {

struct BackoffPolicy {
    // Defaults (documented in `wait --help`): start at 100ms and grow 10% per
    // attempt up to 2s. A dependency that appears in the first seconds is seen
    // within ~0.1-0.5s, yet a 60s outage costs ~50 attempts: fewer than a
    // once-a-second retry loop.
    Duration initial{100};
    double factor = 1.1;
    Duration max{2000};
    double jitter = 0.2;  // each delay is spread uniformly over ±20%
};

// Why a policy is unusable, or nothing.
std::optional<std::string> validate(const BackoffPolicy& policy);

// The delay before attempt `attempt + 1`, after `attempt` (0-based) failed.
Duration backoff_delay(const BackoffPolicy& policy, int attempt, double random01);

// Spreads `base` over [base*(1-fraction), base*(1+fraction)] and clamps the
// result to at least 1ms, whatever the inputs.
Duration apply_jitter(Duration base, double fraction, double random01);

}  // namespace healthgate
