#include <catch2/catch.hpp>

#include "probe/health_status.hpp"
#include "probe_fixtures.hpp"

using namespace healthgate;
using namespace healthgate::probe;
using namespace std::chrono_literals;
using namespace probe_fixtures;

namespace {

Snapshot at(const std::vector<GroupEntry>& groups, Duration offset, bool draining = false) {
    return Snapshot{&groups, k_t0 + offset, std::chrono::system_clock::time_point{1767323045678ms}, draining};
}

}  // namespace

TEST_CASE("a dependency that goes down moves readiness, never liveness", "[health_status]") {
    std::vector<GroupEntry> groups{{"", {entry("app", {ProbeKind::liveness}), entry("db", {ProbeKind::readiness})}}};
    auto& app = groups[0].checks[0].state;
    auto& db = groups[0].checks[1].state;
    app.record(ok(), k_t0 + 10ms);
    db.record(ok(), k_t0 + 10ms);
    CHECK(evaluate_probe(groups[0], ProbeKind::readiness, at(groups, 20ms)).pass);
    db.record(refused(), k_t0 + 30ms);
    auto readiness = evaluate_probe(groups[0], ProbeKind::readiness, at(groups, 40ms));
    CHECK_FALSE(readiness.pass);
    REQUIRE(readiness.checks.size() == 1);
    CHECK_THAT(readiness.checks[0].reason, Catch::Contains("refused"));
    CHECK(evaluate_probe(groups[0], ProbeKind::liveness, at(groups, 40ms)).pass);
}

TEST_CASE("startup latches once every startup check passed once; until then readiness waits and liveness is not judged",
          "[health_status]") {
    std::vector<GroupEntry> groups{{"", {entry("app", {ProbeKind::startup, ProbeKind::liveness}),
                                         entry("migrations", {ProbeKind::startup}), entry("db", {ProbeKind::readiness})}}};
    GroupEntry& group = groups[0];
    group.checks[0].state.record(refused(), k_t0 + 1ms);  // app down (threshold 1)
    group.checks[2].state.record(ok(), k_t0 + 1ms);
    auto snap = at(groups, 5ms);
    CHECK_FALSE(group.startup_passed());
    CHECK_FALSE(evaluate_probe(group, ProbeKind::startup, snap).pass);
    auto live = evaluate_probe(group, ProbeKind::liveness, snap);
    CHECK(live.pass);
    CHECK(live.checks[0].reason == "not judged before startup passed");
    auto ready = evaluate_probe(group, ProbeKind::readiness, snap);
    CHECK_FALSE(ready.pass);
    CHECK(ready.checks[0].name == "startup");
    CHECK(ready.checks[0].reason == "startup checks have not passed yet: app, migrations");

    group.checks[0].state.record(ok(), k_t0 + 10ms);
    CHECK_FALSE(group.startup_passed());
    group.checks[1].state.record(ok(), k_t0 + 11ms);
    CHECK(group.startup_passed());
    CHECK(evaluate_probe(group, ProbeKind::startup, at(groups, 12ms)).pass);
    CHECK(evaluate_probe(group, ProbeKind::readiness, at(groups, 12ms)).pass);

    // Latched: later failures (even stale results) do not undo startup; liveness is judged now.
    group.checks[0].state.record(refused(), k_t0 + 20ms);
    group.checks[1].state.record(refused(), k_t0 + 20ms);
    CHECK(evaluate_probe(group, ProbeKind::startup, at(groups, 1h)).pass);
    CHECK_FALSE(evaluate_probe(group, ProbeKind::liveness, at(groups, 30ms)).pass);
}

TEST_CASE("without startup checks, startup passes at once", "[health_status]") {
    std::vector<GroupEntry> groups{{"", {entry("db", {ProbeKind::readiness})}}};
    CHECK(groups[0].startup_passed());
    auto startup = evaluate_probe(groups[0], ProbeKind::startup, at(groups, 0ms));
    CHECK(startup.pass);
    CHECK(startup.checks.empty());
    CHECK(format_text(startup, false) == "ok");
}

TEST_CASE("draining fails readiness first with a shutdown line; liveness and startup are untouched", "[health_status]") {
    std::vector<GroupEntry> groups{{"", {entry("app", {ProbeKind::liveness, ProbeKind::readiness})}}};
    groups[0].checks[0].state.record(ok(), k_t0);
    auto ready = evaluate_probe(groups[0], ProbeKind::readiness, at(groups, 1ms, true));
    CHECK_FALSE(ready.pass);
    CHECK(ready.checks[0].name == "shutdown");
    CHECK(ready.checks[1].pass);
    CHECK(evaluate_probe(groups[0], ProbeKind::liveness, at(groups, 1ms, true)).pass);
    CHECK(evaluate_probe(groups[0], ProbeKind::startup, at(groups, 1ms, true)).pass);
    CHECK(format_text(ready, false) == "[-]shutdown failed: draining after SIGTERM\n[+]app ok\nreadyz check failed\n");
}

TEST_CASE("stale results fail readiness and liveness", "[health_status]") {
    std::vector<GroupEntry> groups{{"", {entry("app", {ProbeKind::liveness, ProbeKind::readiness})}}};
    groups[0].checks[0].state.record(ok(), k_t0);
    CHECK(evaluate_probe(groups[0], ProbeKind::readiness, at(groups, 1500ms)).pass);
    auto ready = evaluate_probe(groups[0], ProbeKind::readiness, at(groups, 1700ms));
    CHECK_FALSE(ready.pass);
    CHECK_THAT(ready.checks[0].reason, Catch::StartsWith("stale: no new result for 1.7s"));
    CHECK_FALSE(evaluate_probe(groups[0], ProbeKind::liveness, at(groups, 1700ms)).pass);
}

TEST_CASE("exclude leaves a check out and says so", "[health_status]") {
    std::vector<GroupEntry> groups{{"", {entry("db", {ProbeKind::readiness}), entry("cache", {ProbeKind::readiness})}}};
    groups[0].checks[1].state.record(ok(), k_t0);
    auto verdict = evaluate_probe(groups[0], ProbeKind::readiness, at(groups, 1ms), {"db"});
    CHECK(verdict.pass);
    CHECK(format_text(verdict, true) == "[+]db excluded: ok\n[+]cache ok\nreadyz check passed\n");
    CHECK(format_text(verdict, false) == "ok");
}

TEST_CASE("JSON has status, reason, since, consecutive results and latency", "[health_status]") {
    std::vector<GroupEntry> groups{{"web", {entry("db", {ProbeKind::readiness}, 2)}}};
    auto& db = groups[0].checks[0].state;
    db.record(ok(), k_t0);
    db.record(refused(), k_t0 + 1s);
    db.record(refused(), k_t0 + 2s);  // down since t0+2s
    auto snap = at(groups, 2500ms);   // wall clock 2026-01-02T03:04:05.678Z at t0+2.5s
    std::string json = format_json(evaluate_probe(groups[0], ProbeKind::readiness, snap), groups[0], snap);
    CHECK(json ==
          R"({"probe":"readiness","container":"web","status":"failed","startup_passed":true,"draining":false,"checks":[)"
          R"({"name":"db","status":"failed","reason":"connection refused: connect 10.0.0.5:5432: refused","target":"tcp://db:1",)"
          R"("health":"down","stale":false,"since":"2026-01-02T03:04:05.178Z","consecutive_successes":0,)"
          R"("consecutive_failures":2,"attempts":3,"last_latency_ms":1,)"
          R"("last_failure":"connection refused: connect 10.0.0.5:5432: refused"}]})"
          "\n");
}

TEST_CASE("metrics in Prometheus text format, per check and per probe", "[health_status]") {
    std::vector<GroupEntry> groups{{"", {entry("db", {ProbeKind::readiness})}},
                                   {"worker", {entry("q\"1", {ProbeKind::liveness})}}};
    groups[0].checks[0].state.record(ok(), k_t0);
    groups[1].checks[0].state.record(refused(), k_t0);
    std::string metrics = format_metrics(at(groups, 10ms));
    CHECK_THAT(metrics, Catch::Contains("# TYPE healthgate_check_up gauge\n"));
    CHECK_THAT(metrics, Catch::Contains("healthgate_check_up{container=\"\",check=\"db\"} 1\n"));
    CHECK_THAT(metrics, Catch::Contains("healthgate_check_up{container=\"worker\",check=\"q\\\"1\"} 0\n"));
    CHECK_THAT(metrics, Catch::Contains("healthgate_check_latency_seconds{container=\"\",check=\"db\"} 0.002\n"));
    CHECK_THAT(metrics, Catch::Contains("healthgate_check_consecutive_failures{container=\"worker\",check=\"q\\\"1\"} 1\n"));
    CHECK_THAT(metrics, Catch::Contains("# TYPE healthgate_check_transitions_total counter\n"));
    CHECK_THAT(metrics, Catch::Contains("healthgate_check_transitions_total{container=\"\",check=\"db\"} 1\n"));
    CHECK_THAT(metrics, Catch::Contains("healthgate_check_failures_total{container=\"worker\",check=\"q\\\"1\"} 1\n"));
    CHECK_THAT(metrics, Catch::Contains("healthgate_probe_up{container=\"\",probe=\"readiness\"} 1\n"));
    CHECK_THAT(metrics, Catch::Contains("healthgate_probe_up{container=\"worker\",probe=\"liveness\"} 0\n"));
    CHECK_THAT(metrics, Catch::Contains("healthgate_check_stale{container=\"\",check=\"db\"} 0\n"));
    CHECK_THAT(metrics, Catch::EndsWith("healthgate_draining 0\n"));
}

TEST_CASE("a check of several services shows one line a service, in text and JSON", "[health_status]") {
    std::vector<GroupEntry> groups{{"", {entry("db", {ProbeKind::readiness})}}};
    check::CheckResult result = refused();
    result.failure = check::Failure::grpc_not_serving;
    result.reason = "service=orders: NOT_SERVING";
    result.parts = {{"service=users", true, ""}, {"service=orders", false, "NOT_SERVING"}};
    groups[0].checks[0].state.record(result, k_t0 + 1ms);
    auto snap = at(groups, 2ms);
    auto verdict = evaluate_probe(groups[0], ProbeKind::readiness, snap);
    CHECK(format_text(verdict, false) ==
          "[-]db failed: grpc: not serving: service=orders: NOT_SERVING\n[+]db service=users ok\n"
          "[-]db service=orders failed: NOT_SERVING\nreadyz check failed\n");
    std::string json = format_json(verdict, groups[0], snap);
    CHECK_THAT(json, Catch::Contains(R"("parts":[{"name":"service=users","status":"ok","reason":"ok"},)"
                                     R"({"name":"service=orders","status":"failed","reason":"NOT_SERVING"}])"));
}
