#include "probe/health_checker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>

#include "common/log.hpp"
#include "probe/health_report.hpp"

namespace healthgate::probe {

namespace asio = boost::asio;

HealthChecker::HealthChecker(asio::io_context& io, check::Checker& checker, const ServeConfig& config, ClockFn clock,
                             RandomFn random)
    : io_(io), checker_(checker), clock_(std::move(clock)), random_(std::move(random)) {
    if (!clock_) clock_ = [] { return Clock::now(); };
    if (!random_) {
        auto engine = std::make_shared<std::minstd_rand>(std::random_device{}());
        random_ = [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
    }
    TimePoint now = clock_();
    for (const CheckGroup& group : config.groups) {
        GroupEntry entry{group.name, {}};
        entry.checks.reserve(group.checks.size());
        for (const CheckConfig& check : group.checks) entry.checks.push_back(CheckEntry{check, CheckState(check.policy, now)});
        groups_.push_back(std::move(entry));
    }
}

void HealthChecker::start() {
    for (GroupEntry& group : groups_) {
        for (CheckEntry& check : group.checks) {
            timers_.push_back(std::make_unique<asio::steady_timer>(io_));
            asio::co_spawn(io_, run_check(group, check, *timers_.back()), asio::detached);
        }
    }
}

void HealthChecker::stop() {
    stopped_ = true;
    for (auto& timer : timers_) timer->cancel();
}

Snapshot HealthChecker::snapshot(bool draining) const {
    return Snapshot{&groups_, clock_(), std::chrono::system_clock::now(), draining};
}

asio::awaitable<void> HealthChecker::run_check(GroupEntry& group, CheckEntry& check, asio::steady_timer& timer) {
    const CheckPolicy& policy = check.state.policy();
    timer.expires_after(first_attempt_delay(policy.interval, random_()));
    for (;;) {
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));  // cancelled only by stop()
        if (stopped_) co_return;
        // Attempts start on a fixed cadence from their start (never later than
        // interval after the previous start), so results stay within the
        // staleness bound interval + timeout.
        timer.expires_at(timer.expiry() + next_attempt_delay(policy.interval, random_()));
        check::CheckResult result = co_await checker_.run(check.config.target, policy.timeout);
        if (stopped_) co_return;
        Health before = check.state.health();
        bool startup_before = group.startup_passed();
        check.state.record(result, clock_());
        log_result(group, check, before, startup_before);
        // A late attempt (longer than the remaining interval) starts the next one at once.
        if (timer.expiry() < asio::steady_timer::clock_type::now()) timer.expires_after(Duration{0});
    }
}

void HealthChecker::log_result(const GroupEntry& group, const CheckEntry& check, Health before, bool startup_before) {
    const CheckState& state = check.state;
    // Checks of a container are named "container/check" in the log.
    std::string name = group.name.empty() ? check.config.name : group.name + "/" + check.config.name;
    std::string latency = format_duration(state.last_result().latency);
    if (state.health() != before) {
        std::string reason = state.last_result().ok() ? std::string("ok") : one_line(state.last_failure_reason());
        auto level = state.health() == Health::down ? log::Level::warn : log::Level::info;
        log::write(level, "check state changed",
                   {{"check", name}, {"from", health_name(before)}, {"to", health_name(state.health())},
                    {"reason", reason}, {"latency", latency}});
    } else if (!state.last_result().ok() && log::enabled(log::Level::debug)) {
        log::debug("check failed", {{"check", name}, {"reason", one_line(state.last_failure_reason())}, {"latency", latency}});
    }
    if (!startup_before && group.startup_passed()) {
        log::info("startup passed", {{"container", group.name.empty() ? "(top level)" : group.name}});
    }
}

}  // namespace healthgate::probe
