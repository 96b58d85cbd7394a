#pragma once
// Runs the checks of `serve` in the background, after Envoy's health checker:
// this base owns the interval timers with jitter, the thresholds (through
// CheckState) and the logging of transitions; a protocol only runs one
// attempt, through check::Checker::run, which bounds it by the timeout.
// The clock and the random source are injected (tests and benches may pin
// them); the timers themselves use the real steady clock.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "check/check.hpp"
#include "probe/health_status.hpp"
#include "probe/serve_config.hpp"

namespace healthgate::probe {

class HealthChecker {
public:
    using ClockFn = std::function<TimePoint()>;
    using RandomFn = std::function<double()>;  // uniform in [0, 1)

    HealthChecker(boost::asio::io_context& io, check::Checker& checker, const ServeConfig& config,
                  ClockFn clock = {}, RandomFn random = {});

    // Starts one loop per check; each attempts at once (plus a small spread),
    // then every interval (shortened by up to 10% of jitter).
    void start();
    // Cancels the loops' timers; attempts in flight end by their timeout.
    void stop();

    Snapshot snapshot(bool draining) const;
    const std::vector<GroupEntry>& groups() const { return groups_; }

private:
    boost::asio::awaitable<void> run_check(GroupEntry& group, CheckEntry& check, boost::asio::steady_timer& timer);
    void log_result(const GroupEntry& group, const CheckEntry& check, Health before, bool startup_before);

    boost::asio::io_context& io_;
    check::Checker& checker_;
    ClockFn clock_;
    RandomFn random_;
    std::vector<GroupEntry> groups_;  // never resized after construction: loops hold references
    std::vector<std::unique_ptr<boost::asio::steady_timer>> timers_;
    bool stopped_ = false;
};

}  // namespace healthgate::probe
