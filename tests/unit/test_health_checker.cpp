// HealthChecker drives real timers on a real io_context; the targets are
// files, so no socket is involved and the cadence is the only thing timed
// (with wide margins).
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "probe/health_checker.hpp"

using namespace healthgate;
using namespace healthgate::probe;
using namespace std::chrono_literals;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char pattern[] = "/tmp/healthgate-checker-XXXXXX";
        path = ::mkdtemp(pattern);
    }
    ~TempDir() { std::system(("rm -rf " + path).c_str()); }
};

ServeConfig config_for(const std::string& file, Duration interval, int failure_threshold) {
    ServeConfig config;
    CheckConfig check;
    check.name = "heartbeat";
    check.target = *parse_target("file://" + file);
    check.policy = CheckPolicy{interval, interval, failure_threshold, 1};
    check.probes[static_cast<int>(ProbeKind::liveness)] = true;
    check.probes[static_cast<int>(ProbeKind::readiness)] = true;
    config.groups.push_back(CheckGroup{"", {check}});
    return config;
}

void run_for(boost::asio::io_context& io, Duration d) {
    io.restart();
    io.run_for(d);
}

}  // namespace

TEST_CASE("checks run in the background on their interval and feed the state machine", "[health_checker]") {
    TempDir dir;
    std::string file = dir.path + "/heartbeat";
    std::ofstream(dir.path + "/resolv.conf") << "nameserver 127.0.0.1\n";
    boost::asio::io_context io;
    auto checker = check::Checker::create(io, check::CheckerOptions{dir.path + "/resolv.conf"});
    REQUIRE(checker.ok());
    HealthChecker checks(io, **checker, config_for(file, 50ms, 2), {}, [] { return 0.5; });
    checks.start();

    run_for(io, 530ms);
    const CheckState& state = checks.groups()[0].checks[0].state;
    // First attempt after 2.5ms (half of interval/10), then every 47.5ms
    // (interval shortened by half of the 10% jitter): about 11.
    CHECK(state.attempts() >= 6);
    CHECK(state.attempts() <= 12);
    CHECK(state.health() == Health::down);
    CHECK_THAT(state.last_failure_reason(), Catch::Contains("heartbeat"));

    std::ofstream(file) << "beat";
    run_for(io, 200ms);
    CHECK(state.health() == Health::up);
    Snapshot snapshot = checks.snapshot(false);
    CHECK(evaluate_probe(checks.groups()[0], ProbeKind::readiness, snapshot).pass);
    CHECK(checks.snapshot(true).draining);

    checks.stop();
    auto attempts = state.attempts();
    run_for(io, 200ms);
    CHECK(state.attempts() == attempts);  // stopped: no more attempts
}

TEST_CASE("the injected clock stamps the results", "[health_checker]") {
    TempDir dir;
    std::ofstream(dir.path + "/resolv.conf") << "nameserver 127.0.0.1\n";
    std::ofstream(dir.path + "/heartbeat") << "beat";
    boost::asio::io_context io;
    auto checker = check::Checker::create(io, check::CheckerOptions{dir.path + "/resolv.conf"});
    REQUIRE(checker.ok());
    const TimePoint fixed = TimePoint{} + 42h;
    HealthChecker checks(io, **checker, config_for(dir.path + "/heartbeat", 1000ms, 1), [&] { return fixed; },
                         [] { return 0.0; });
    checks.start();
    run_for(io, 100ms);  // first attempt at once (random 0)
    const CheckState& state = checks.groups()[0].checks[0].state;
    REQUIRE(state.attempts() == 1);
    CHECK(state.last_result_at() == fixed);
    CHECK(checks.snapshot(false).now == fixed);
    checks.stop();
    run_for(io, 10ms);
}
