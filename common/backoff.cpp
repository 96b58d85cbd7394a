#include "common/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace healthgate {

std::optional<std::string> validate(const BackoffPolicy& policy) {
    if (policy.initial.count() <= 0) return std::string("backoff initial delay must be positive");
    if (!(policy.factor >= 1.0 && policy.factor <= 10.0)) return std::string("backoff factor must be between 1 and 10");
    if (policy.max < policy.initial) {
        return fmt::format("backoff max ({}) is smaller than the initial delay ({})", format_duration(policy.max),
                           format_duration(policy.initial));
    }
    if (!(policy.jitter >= 0.0 && policy.jitter < 1.0)) return std::string("jitter must be at least 0 and below 1");
    return std::nullopt;
}

Duration apply_jitter(Duration base, double fraction, double random01) {
    fraction = std::clamp(fraction, 0.0, 0.99);
    random01 = std::clamp(random01, 0.0, 1.0);
    double spread = static_cast<double>(base.count()) * fraction * (2.0 * random01 - 1.0);
    auto jittered = static_cast<Duration::rep>(std::llround(static_cast<double>(base.count()) + spread));
    return Duration{std::max<Duration::rep>(jittered, 1)};
}

Duration backoff_delay(const BackoffPolicy& policy, int attempt, double random01) {
    // Computed in floating point and capped before converting, so a huge
    // attempt count cannot overflow.
    double grown = static_cast<double>(policy.initial.count()) * std::pow(policy.factor, std::max(attempt, 0));
    double capped = std::min(grown, static_cast<double>(policy.max.count()));
    return apply_jitter(Duration{static_cast<Duration::rep>(capped)}, policy.jitter, random01);
}

}  // namespace healthgate
