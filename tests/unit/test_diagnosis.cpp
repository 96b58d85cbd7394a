#include <catch2/catch.hpp>

#include "common/text.hpp"
#include "gate/diagnosis.hpp"

using namespace healthgate;
using namespace healthgate::gate;

namespace {
TargetStatus failing(const char* url, check::Failure failure, std::string reason, int attempts) {
    TargetStatus status{*parse_target(url)};
    status.attempts = attempts;
    status.last_failure = failure;
    status.last_reason = std::move(reason);
    return status;
}
}  // namespace

TEST_CASE("diagnosis: first pending target, its failure and the verdict first, then pending targets, ready ones, resolver", "[diagnosis]") {
    Clock::time_point t0{};
    std::vector<TargetStatus> targets = {
        failing("tcp://db:5432", check::Failure::connection_refused, "connect 10.0.1.45:5432: connection refused", 87),
        failing("dns://redis", check::Failure::dns_no_such_name, "no such name: tried redis.ns.svc.cluster.local", 12),
        TargetStatus{*parse_target("http://api/")},
    };
    targets[2].ready = true;
    targets[2].attempts = 3;
    targets[2].ready_at = t0 + std::chrono::milliseconds(3200);
    DiagnosisInput input{"not ready after 5m00s", &targets, t0, t0 + std::chrono::minutes(5),
                         "nameservers 10.96.0.10:53; search ns.svc.cluster.local; ndots 5"};
    auto lines = diagnosis_lines(input);
    REQUIRE(lines.size() == 5);
    CHECK(lines[0] == "tcp://db:5432: connection refused (and 1 more) — not ready after 5m00s");
    CHECK(lines[1] == "[-] tcp://db:5432: connect 10.0.1.45:5432: connection refused (87 attempts, failing for 5m00s)");
    CHECK_THAT(lines[2], Catch::StartsWith("[-] dns://redis: no such name: tried redis.ns"));
    CHECK(lines[3] == "[+] http://api/: ready after 3.2s (3 attempts)");
    CHECK_THAT(lines[4], Catch::StartsWith("resolver: nameservers"));
    CHECK(pending_summary(targets) ==
          "2 of 3 pending: tcp://db:5432 (connection refused, 87 attempts), dns://redis (dns: no such name, 12 attempts)");
}

TEST_CASE("diagnosis fits 4096 bytes with every pending target named", "[diagnosis]") {
    Clock::time_point t0{};
    std::vector<TargetStatus> targets;
    for (int i = 0; i < 5; ++i) {
        std::string url = "tcp://service-" + std::to_string(i) + ":80";
        targets.push_back(failing(url.c_str(), check::Failure::other, std::string(3000, 'x'), 1));
    }
    DiagnosisInput input{"timed out after 1s", &targets, t0, t0 + std::chrono::seconds(1), ""};
    std::string message = compose_diagnosis(input, 4096);
    CHECK(message.size() <= 4096);
    CHECK(utf8_sanitize(message) == message);
    for (int i = 0; i < 5; ++i) CHECK_THAT(message, Catch::Contains("service-" + std::to_string(i)));
}

TEST_CASE("diagnosis: the first line names a lone target, or one not yet tried, and stays bounded", "[diagnosis]") {
    Clock::time_point t0{};
    std::vector<TargetStatus> targets = {TargetStatus{*parse_target("tcp://db:5432")}};
    DiagnosisInput input{"stopped by SIGTERM after 12.0s", &targets, t0, t0 + std::chrono::seconds(12), ""};
    CHECK(diagnosis_lines(input)[0] == "tcp://db:5432: no attempt finished — stopped by SIGTERM after 12.0s");
    targets = {failing("dns://redis", check::Failure::dns_no_such_name, "no such name", 3)};
    CHECK(diagnosis_lines(input)[0] == "dns://redis: dns: no such name — stopped by SIGTERM after 12.0s");
    targets = {failing("tcp://db:1", check::Failure::connection_refused, "refused", 1)};
    targets[0].target.name = "tcp://" + std::string(5000, 'a') + ":1";
    CHECK(diagnosis_lines(input)[0].size() < k_max_target_line + 100);
}
