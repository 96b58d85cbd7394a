#include "gate/target_tracker.hpp"

namespace healthgate::gate {

Change record_attempt(TargetStatus& status, const check::CheckResult& result, Clock::time_point now) {
    ++status.attempts;
    status.last_latency = result.latency;
    if (result.ok()) {
        status.ready = true;
        status.ready_at = now;
        return Change::ready;
    }
    bool first = status.last_failure == check::Failure::none;
    bool changed = !first && status.last_failure != result.failure;
    if (first) status.failing_since = now;
    status.last_failure = result.failure;
    status.last_reason = result.reason;
    return first ? Change::failing : changed ? Change::reason : Change::none;
}

}  // namespace healthgate::gate
