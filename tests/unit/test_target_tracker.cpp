#include <catch2/catch.hpp>

#include "gate/target_tracker.hpp"

using namespace healthgate;
using namespace healthgate::gate;

TEST_CASE("a log line only when the state or the failure kind changes", "[tracker]") {
    TargetStatus status{*parse_target("tcp://db:5432")};
    Clock::time_point t0{};
    check::CheckResult refused{check::Failure::connection_refused, "connect 127.0.0.1:5432: connection refused"};
    check::CheckResult timeout{check::Failure::connect_timeout, "connect 127.0.0.1:5432: timed out"};
    CHECK(record_attempt(status, refused, t0) == Change::failing);
    CHECK(record_attempt(status, refused, t0 + std::chrono::seconds(1)) == Change::none);
    CHECK(record_attempt(status, timeout, t0 + std::chrono::seconds(2)) == Change::reason);
    CHECK(status.attempts == 3);
    CHECK(status.failing_since == t0);
    CHECK(status.last_reason == timeout.reason);
    CHECK(record_attempt(status, check::CheckResult{}, t0 + std::chrono::seconds(3)) == Change::ready);
    CHECK(status.ready);
}
