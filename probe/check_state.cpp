#include "probe/check_state.hpp"

#include "check/describe.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace healthgate::probe {

std::string_view health_name(Health health) {
    switch (health) {
        case Health::pending: return "pending";
        case Health::up: return "up";
        case Health::down: return "down";
    }
    return "pending";
}

CheckState::CheckState(CheckPolicy policy, TimePoint created)
    : policy_(policy), created_(created), last_at_(created), since_(created) {
    policy_.failure_threshold = std::max(1, policy_.failure_threshold);
    policy_.success_threshold = std::max(1, policy_.success_threshold);
}

Transition CheckState::record(const check::CheckResult& result, TimePoint at) {
    ++attempts_;
    last_ = result;
    last_at_ = at;
    Health next = health_;
    if (result.ok()) {
        ever_passed_ = true;
        ++successes_;
        failures_ = 0;
        if (successes_ >= policy_.success_threshold) next = Health::up;
    } else {
        ++failed_attempts_;
        last_failure_reason_ = check::describe_failure(result);
        ++failures_;
        successes_ = 0;
        if (failures_ >= policy_.failure_threshold) next = Health::down;
    }
    if (next == health_) return Transition::unchanged;
    health_ = next;
    since_ = at;
    ++transitions_;
    return Transition::changed;
}

bool CheckState::stale(TimePoint now) const {
    return now - last_at_ > policy_.interval + policy_.timeout + k_stale_grace;
}

std::string CheckState::stale_reason(TimePoint now) const {
    auto age = std::chrono::duration_cast<Duration>(now - last_at_);
    return fmt::format("stale: {} for {} (interval {} + timeout {})", has_result() ? "no new result" : "no result",
                       format_duration(age), format_duration(policy_.interval), format_duration(policy_.timeout));
}

std::string CheckState::reason(TimePoint now) const {
    if (stale(now)) return stale_reason(now);
    switch (health_) {
        case Health::up: return "ok";
        case Health::down: return last_failure_reason_;
        case Health::pending:
            if (!has_result()) return "no result yet";
            if (last_.ok()) {
                return fmt::format("pending: {} of {} successes needed", successes_, policy_.success_threshold);
            }
            return fmt::format("{} ({} of {} failures before down)", last_failure_reason_, failures_,
                               policy_.failure_threshold);
    }
    return "ok";
}

Duration next_attempt_delay(Duration interval, double random01) {
    random01 = std::clamp(random01, 0.0, 1.0);
    auto jitter = static_cast<Duration::rep>(static_cast<double>(interval.count()) * 0.1 * random01);
    return std::max(Duration{1}, std::min(interval, interval - Duration{jitter}));
}

Duration first_attempt_delay(Duration interval, double random01) {
    random01 = std::clamp(random01, 0.0, 1.0);
    Duration spread = std::min(interval / 10, Duration{1000});
    return std::clamp(Duration{static_cast<Duration::rep>(static_cast<double>(spread.count()) * random01)}, Duration{0},
                      spread);
}

}  // namespace healthgate::probe
