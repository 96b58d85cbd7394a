#include <catch2/catch.hpp>

#include "probe/check_state.hpp"

using namespace healthgate;
using namespace healthgate::probe;
using namespace std::chrono_literals;

namespace {

check::CheckResult ok() { return {check::Failure::none, "", Duration{3}}; }
check::CheckResult refused() {
    return {check::Failure::connection_refused, "connect 127.0.0.1:5432: connection refused", Duration{1}};
}

struct Scenario {
    TimePoint t0 = TimePoint{} + 1h;
    CheckState state;
    explicit Scenario(CheckPolicy policy) : state(policy, TimePoint{} + 1h) {}
    TimePoint at(Duration d) const { return t0 + d; }
};

}  // namespace

TEST_CASE("a new check is pending: not ready, but alive", "[check_state]") {
    Scenario s({1000ms, 500ms, 3, 1});
    CHECK(s.state.health() == Health::pending);
    CHECK_FALSE(s.state.passes_readiness(s.at(0ms)));
    CHECK(s.state.passes_liveness(s.at(0ms)));
    CHECK(s.state.reason(s.at(0ms)) == "no result yet");
    CHECK_FALSE(s.state.ever_passed());
}

TEST_CASE("pending comes up after success_threshold successes in a row", "[check_state]") {
    Scenario s({1000ms, 500ms, 3, 2});
    CHECK(s.state.record(ok(), s.at(10ms)) == Transition::unchanged);
    CHECK(s.state.health() == Health::pending);
    CHECK_FALSE(s.state.passes_readiness(s.at(10ms)));
    CHECK(s.state.reason(s.at(10ms)) == "pending: 1 of 2 successes needed");
    CHECK(s.state.ever_passed());  // the startup latch needs one success only
    CHECK(s.state.record(ok(), s.at(1010ms)) == Transition::changed);
    CHECK(s.state.health() == Health::up);
    CHECK(s.state.passes_readiness(s.at(1010ms)));
    CHECK(s.state.since() == s.at(1010ms));
    CHECK(s.state.transitions() == 1);
}

TEST_CASE("pending goes down after failure_threshold failures; liveness passes until then", "[check_state]") {
    Scenario s({1000ms, 500ms, 3, 1});
    s.state.record(refused(), s.at(0ms));
    s.state.record(refused(), s.at(1000ms));
    CHECK(s.state.health() == Health::pending);
    CHECK(s.state.passes_liveness(s.at(1000ms)));
    CHECK_FALSE(s.state.passes_readiness(s.at(1000ms)));
    CHECK_THAT(s.state.reason(s.at(1000ms)), Catch::Contains("connection refused") && Catch::Contains("2 of 3 failures"));
    CHECK(s.state.record(refused(), s.at(2000ms)) == Transition::changed);
    CHECK(s.state.health() == Health::down);
    CHECK_FALSE(s.state.passes_liveness(s.at(2000ms)));
    CHECK_THAT(s.state.reason(s.at(2000ms)), Catch::Contains("connection refused"));
}

TEST_CASE("hysteresis: N failures to go down, M successes to come back, a blip resets the count", "[check_state]") {
    Scenario s({1000ms, 500ms, 3, 2});
    s.state.record(ok(), s.at(0ms));
    s.state.record(ok(), s.at(1s));
    REQUIRE(s.state.health() == Health::up);

    // Two failures: still up (and ready), the count is visible.
    s.state.record(refused(), s.at(2s));
    s.state.record(refused(), s.at(3s));
    CHECK(s.state.health() == Health::up);
    CHECK(s.state.passes_readiness(s.at(3s)));
    CHECK(s.state.consecutive_failures() == 2);
    // A success in between resets the failure count.
    s.state.record(ok(), s.at(4s));
    s.state.record(refused(), s.at(5s));
    s.state.record(refused(), s.at(6s));
    CHECK(s.state.health() == Health::up);
    CHECK(s.state.record(refused(), s.at(7s)) == Transition::changed);
    CHECK(s.state.health() == Health::down);
    CHECK(s.state.since() == s.at(7s));

    // Coming back needs two successes in a row; one, then a failure, is not enough.
    s.state.record(ok(), s.at(8s));
    CHECK(s.state.health() == Health::down);
    CHECK_FALSE(s.state.passes_readiness(s.at(8s)));
    s.state.record(refused(), s.at(9s));
    s.state.record(ok(), s.at(10s));
    CHECK(s.state.health() == Health::down);
    CHECK(s.state.record(ok(), s.at(11s)) == Transition::changed);
    CHECK(s.state.health() == Health::up);
    CHECK(s.state.transitions() == 3);  // pending->up, up->down, down->up
    CHECK(s.state.attempts() == 12);
    CHECK(s.state.failed_attempts() == 6);
    CHECK_THAT(s.state.last_failure_reason(), Catch::Contains("connection refused"));
}

TEST_CASE("the startup latch of a check holds through later failures", "[check_state]") {
    Scenario s({1000ms, 500ms, 1, 1});
    s.state.record(refused(), s.at(0ms));
    CHECK_FALSE(s.state.ever_passed());
    s.state.record(ok(), s.at(1s));
    s.state.record(refused(), s.at(2s));
    CHECK(s.state.health() == Health::down);
    CHECK(s.state.ever_passed());
}

TEST_CASE("no result for interval + timeout makes a check stale, which fails every probe kind", "[check_state]") {
    Scenario s({1000ms, 500ms, 3, 1});
    s.state.record(ok(), s.at(0ms));
    const Duration bound = 1500ms + k_stale_grace;
    CHECK_FALSE(s.state.stale(s.at(bound)));
    CHECK(s.state.passes_readiness(s.at(bound)));
    CHECK(s.state.stale(s.at(bound + 1ms)));
    CHECK(s.state.health() == Health::up);  // thresholds unchanged, yet:
    CHECK_FALSE(s.state.passes_readiness(s.at(bound + 1ms)));
    CHECK_FALSE(s.state.passes_liveness(s.at(bound + 1ms)));
    CHECK_THAT(s.state.reason(s.at(3s)), Catch::StartsWith("stale: no new result for 3.0s") &&
                                             Catch::Contains("interval 1.0s + timeout 500ms"));
    // A fresh result clears it at once.
    s.state.record(ok(), s.at(3s));
    CHECK_FALSE(s.state.stale(s.at(3s)));
    CHECK(s.state.passes_readiness(s.at(3s)));
}

TEST_CASE("a check that never answers is stale from its creation", "[check_state]") {
    Scenario s({1000ms, 1000ms, 3, 1});
    CHECK_FALSE(s.state.stale(s.at(2000ms)));
    CHECK(s.state.stale(s.at(2000ms + k_stale_grace + 1ms)));
    CHECK_FALSE(s.state.passes_liveness(s.at(3s)));
    CHECK_THAT(s.state.reason(s.at(3s)), Catch::StartsWith("stale: no result for 3.0s"));
}

TEST_CASE("thresholds below 1 are treated as 1", "[check_state]") {
    Scenario s({1000ms, 500ms, 0, -2});
    CHECK(s.state.policy().failure_threshold == 1);
    CHECK(s.state.policy().success_threshold == 1);
    s.state.record(refused(), s.at(0ms));
    CHECK(s.state.health() == Health::down);
}

TEST_CASE("jitter only shortens the interval, by at most 10%, and clamps its input", "[check_state]") {
    CHECK(next_attempt_delay(10s, 0.0) == 10s);
    CHECK(next_attempt_delay(10s, 0.5) == 9500ms);
    CHECK(next_attempt_delay(10s, 0.999) >= 9000ms);
    CHECK(next_attempt_delay(10s, 7.0) == 9000ms);
    CHECK(next_attempt_delay(10s, -1.0) == 10s);
    CHECK(next_attempt_delay(1ms, 0.9) == 1ms);
    for (double r = 0; r < 1; r += 0.01) {
        auto d = next_attempt_delay(2s, r);
        CHECK(d <= 2s);
        CHECK(d >= 1800ms);
    }
}

TEST_CASE("the first attempt comes within min(interval/10, 1s)", "[check_state]") {
    CHECK(first_attempt_delay(10s, 0.0) == 0ms);
    CHECK(first_attempt_delay(10s, 0.5) == 500ms);
    CHECK(first_attempt_delay(60s, 0.99) <= 1s);
    CHECK(first_attempt_delay(100ms, 1.0) == 10ms);
    CHECK(first_attempt_delay(100ms, 5.0) == 10ms);
}

TEST_CASE("health names", "[check_state]") {
    CHECK(health_name(Health::pending) == "pending");
    CHECK(health_name(Health::up) == "up");
    CHECK(health_name(Health::down) == "down");
}
