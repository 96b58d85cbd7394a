#pragma once
// Fixtures shared by the probe unit tests: a fixed clock origin, check
// results, and check entries built from a name and the probes they serve.
#include <chrono>
#include <initializer_list>
#include <string>

#include "common/target.hpp"
#include "probe/health_status.hpp"

namespace probe_fixtures {

using namespace healthgate;
using namespace healthgate::probe;
using namespace std::chrono_literals;

inline const TimePoint k_t0 = TimePoint{} + 1h;

inline check::CheckResult ok() { return {check::Failure::none, "", Duration{2}}; }
inline check::CheckResult refused() {
    return {check::Failure::connection_refused, "connect 10.0.0.5:5432: refused", Duration{1}};
}

// A check named `name` serving `kinds`; "db" targets a remote host, every
// other name a loopback port.
inline CheckEntry entry(const std::string& name, std::initializer_list<ProbeKind> kinds, int failure_threshold = 1) {
    CheckConfig config;
    config.name = name;
    config.target = *parse_target("tcp://" + std::string(name == "db" ? "db" : "127.0.0.1") + ":1");
    config.policy = CheckPolicy{1000ms, 500ms, failure_threshold, 1};
    for (ProbeKind kind : kinds) config.probes[static_cast<int>(kind)] = true;
    return CheckEntry{config, CheckState(config.policy, k_t0)};
}

}  // namespace probe_fixtures
