#pragma once
// The state of one background check of `serve`: thresholds, hysteresis, the
// startup latch and staleness. Pure: every call is given the time, so the
// scenarios below are unit-tested with a hand-driven clock.
//
// Scenarios (each pinned by a test):
//   - a new check is pending: readiness fails ("no result yet"), liveness
//     passes (the kubelet also starts liveness as success);
//   - pending -> up after success_threshold consecutive successes,
//     pending -> down after failure_threshold consecutive failures;
//   - up -> down only after failure_threshold consecutive failures, down -> up
//     only after success_threshold consecutive successes (hysteresis both ways);
//   - one success ever is enough for the startup latch of this check;
//   - no result for longer than interval + timeout (+ a small grace for timer
//     slack) makes the check "stale": it fails every probe kind at once,
//     whatever its thresholds, so a hung check can never keep a pod ready.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "check/check.hpp"
#include "common/duration.hpp"

namespace healthgate::probe {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// Timers fire a little late on a loaded node; staleness allows this much.
inline constexpr Duration k_stale_grace{100};

struct CheckPolicy {
    Duration interval{10'000};
    Duration timeout{1'000};
    int failure_threshold = 3;
    int success_threshold = 1;
};

enum class Health { pending, up, down };
std::string_view health_name(Health health);

enum class Transition { unchanged, changed };

class CheckState {
public:
    CheckState(CheckPolicy policy, TimePoint created);

    // Records the result of one attempt that finished at `at`.
    Transition record(const check::CheckResult& result, TimePoint at);

    Health health() const { return health_; }
    bool ever_passed() const { return ever_passed_; }
    bool stale(TimePoint now) const;
    // "no result for 2.3s (interval 1s + timeout 1s)"; meaningful when stale().
    std::string stale_reason(TimePoint now) const;

    // Effective verdicts: thresholds applied, staleness counted as failure.
    bool passes_readiness(TimePoint now) const { return health_ == Health::up && !stale(now); }
    bool passes_liveness(TimePoint now) const { return health_ != Health::down && !stale(now); }

    // Why the check is not passing (or "ok"): stale reason, last failure, or
    // progress towards the success threshold.
    std::string reason(TimePoint now) const;

    const CheckPolicy& policy() const { return policy_; }
    const check::CheckResult& last_result() const { return last_; }
    bool has_result() const { return attempts_ > 0; }
    TimePoint last_result_at() const { return last_at_; }
    TimePoint since() const { return since_; }  // last change of health (or creation)
    int consecutive_successes() const { return successes_; }
    int consecutive_failures() const { return failures_; }
    std::uint64_t transitions() const { return transitions_; }
    std::uint64_t attempts() const { return attempts_; }
    std::uint64_t failed_attempts() const { return failed_attempts_; }
    // The failure reason of the most recent failed attempt (kept while up).
    const std::string& last_failure_reason() const { return last_failure_reason_; }

private:
    CheckPolicy policy_;
    Health health_ = Health::pending;
    bool ever_passed_ = false;
    TimePoint created_;
    TimePoint last_at_;
    TimePoint since_;
    check::CheckResult last_;
    std::string last_failure_reason_;
    int successes_ = 0;
    int failures_ = 0;
    std::uint64_t transitions_ = 0;
    std::uint64_t attempts_ = 0;
    std::uint64_t failed_attempts_ = 0;
};

// Delay from one attempt's start to the next: the interval shortened by up to
// 10% (never lengthened, so results are never further apart than
// interval + timeout, the staleness bound). random01 is in [0, 1).
Duration next_attempt_delay(Duration interval, double random01);
// Delay before the very first attempt: spread over [0, min(interval/10, 1s)]
// so many checks configured together do not fire together.
Duration first_attempt_delay(Duration interval, double random01);

}  // namespace healthgate::probe
