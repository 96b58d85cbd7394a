#pragma once
// What `serve` knows at one instant, and the verdict of each probe kind:
// pure functions over the checks' states, so the endpoints answer from the
// latest results without ever waiting on a check.
//
// Rules (see serve --help):
//   startup    every startup check has passed once (each check latches itself,
//              so the group's verdict latches too);
//   liveness   no liveness check down or stale; not judged before startup passed
//              (the kubelet does the same), so a slow start is never a restart;
//   readiness  every readiness check up and fresh, startup passed, not draining.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "probe/check_state.hpp"
#include "probe/serve_config.hpp"

namespace healthgate::probe {

struct CheckEntry {
    CheckConfig config;
    CheckState state;
};

struct GroupEntry {
    std::string name;  // "" for the top level
    std::vector<CheckEntry> checks;

    bool has_kind(ProbeKind kind) const;
    bool startup_passed() const;  // vacuously true without startup checks
};

struct Snapshot {
    const std::vector<GroupEntry>* groups = nullptr;
    TimePoint now;
    std::chrono::system_clock::time_point wall_now;
    bool draining = false;
    const std::string* extra_metrics = nullptr;  // appended to /metrics (the pod's run histories)
};

struct CheckVerdict {
    const CheckEntry* check = nullptr;  // null for the pseudo-checks "startup" and "shutdown"
    std::string name;
    bool pass = false;
    bool excluded = false;
    std::string reason;                 // why it fails, or a note when it passes
};

struct ProbeVerdict {
    ProbeKind kind = ProbeKind::readiness;
    bool pass = true;
    std::vector<CheckVerdict> checks;
};

CheckVerdict evaluate_check(const GroupEntry& group, const CheckEntry& check, ProbeKind kind, const Snapshot& snapshot);
ProbeVerdict evaluate_probe(const GroupEntry& group, ProbeKind kind, const Snapshot& snapshot,
                            const std::vector<std::string>& exclude = {});

// Apiserver style: "ok" when passing and not verbose; otherwise one line per
// check and a last line "readyz check passed|failed".
std::string format_text(const ProbeVerdict& verdict, bool verbose);
std::string format_json(const ProbeVerdict& verdict, const GroupEntry& group, const Snapshot& snapshot);
// Prometheus text exposition format 0.0.4.
std::string format_metrics(const Snapshot& snapshot);

}  // namespace healthgate::probe
