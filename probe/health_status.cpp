#include "probe/health_status.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "common/text.hpp"
#include "probe/health_report.hpp"

namespace healthgate::probe {
namespace {

constexpr std::string_view k_not_judged = "not judged before startup passed";

std::string waiting_for_startup(const GroupEntry& group, TimePoint now) {
    std::string names;
    for (const CheckEntry& check : group.checks) {
        if (!check.config.in(ProbeKind::startup) || check.state.ever_passed()) continue;
        if (!names.empty()) names += ", ";
        names += check.config.name;
    }
    return fmt::format("startup checks have not passed yet: {}", names);
}

std::string prometheus_label(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

std::string seconds(Duration d) { return fmt::format("{:.3f}", static_cast<double>(d.count()) / 1000.0); }

}  // namespace

bool GroupEntry::has_kind(ProbeKind kind) const {
    return std::any_of(checks.begin(), checks.end(), [kind](const CheckEntry& c) { return c.config.in(kind); });
}

bool GroupEntry::startup_passed() const {
    return std::all_of(checks.begin(), checks.end(), [](const CheckEntry& c) {
        return !c.config.in(ProbeKind::startup) || c.state.ever_passed();
    });
}

CheckVerdict evaluate_check(const GroupEntry& group, const CheckEntry& check, ProbeKind kind, const Snapshot& snapshot) {
    CheckVerdict verdict;
    verdict.check = &check;
    verdict.name = check.config.name;
    const CheckState& state = check.state;
    switch (kind) {
        case ProbeKind::startup: verdict.pass = state.ever_passed(); break;
        case ProbeKind::liveness:
            if (!group.startup_passed()) {
                verdict.pass = true;
                verdict.reason = std::string(k_not_judged);
                return verdict;
            }
            verdict.pass = state.passes_liveness(snapshot.now);
            break;
        case ProbeKind::readiness: verdict.pass = state.passes_readiness(snapshot.now); break;
    }
    if (!verdict.pass) verdict.reason = state.reason(snapshot.now);
    return verdict;
}

ProbeVerdict evaluate_probe(const GroupEntry& group, ProbeKind kind, const Snapshot& snapshot,
                            const std::vector<std::string>& exclude) {
    ProbeVerdict verdict;
    verdict.kind = kind;
    auto excluded = [&](std::string_view name) { return std::find(exclude.begin(), exclude.end(), name) != exclude.end(); };
    auto add = [&](CheckVerdict check) {
        if (excluded(check.name)) {
            check.excluded = true;
            check.pass = true;
        }
        verdict.pass = verdict.pass && check.pass;
        verdict.checks.push_back(std::move(check));
    };
    if (kind == ProbeKind::readiness) {
        // Pseudo-checks first, as the apiserver lists its "shutdown" check.
        if (snapshot.draining) add(CheckVerdict{nullptr, "shutdown", false, false, "draining after SIGTERM"});
        if (!group.startup_passed()) {
            add(CheckVerdict{nullptr, "startup", false, false, waiting_for_startup(group, snapshot.now)});
        }
    }
    for (const CheckEntry& check : group.checks) {
        if (check.config.in(kind)) add(evaluate_check(group, check, kind, snapshot));
    }
    return verdict;
}

std::string format_text(const ProbeVerdict& verdict, bool verbose) {
    if (verdict.pass && !verbose) return "ok";
    std::string out;
    for (const CheckVerdict& check : verdict.checks) {
        if (check.excluded) out += fmt::format("[+]{} excluded: ok\n", one_line(check.name, 256));
        else if (check.pass && !check.reason.empty()) out += fmt::format("{}: {}\n", format_line(check.name, true, ""), one_line(check.reason));
        else out += fmt::format("{}\n", format_line(check.name, check.pass, check.reason));
        // What a check of several things found for each (grpc: one line a
        // service), as `healthgate probe` prints it.
        if (check.check && !check.excluded && check.check->state.has_result()) {
            for (const check::CheckResult::Part& part : check.check->state.last_result().parts) {
                out += fmt::format("{}\n", format_line(check.name + " " + part.name, part.ok, part.reason));
            }
        }
    }
    out += fmt::format("{} check {}\n", probe_endpoint_name(verdict.kind), verdict.pass ? "passed" : "failed");
    return out;
}

std::string format_json(const ProbeVerdict& verdict, const GroupEntry& group, const Snapshot& snapshot) {
    std::string out = fmt::format(R"({{"probe":"{}","container":"{}","status":"{}","startup_passed":{},"draining":{},"checks":[)",
                                  probe_kind_name(verdict.kind), json_escape(group.name), verdict.pass ? "ok" : "failed",
                                  group.startup_passed(), snapshot.draining);
    bool first = true;
    for (const CheckVerdict& check : verdict.checks) {
        if (!first) out += ',';
        first = false;
        std::string status = check.excluded ? "excluded" : check.pass ? "ok" : "failed";
        out += fmt::format(R"({{"name":"{}","status":"{}","reason":"{}")", json_escape(utf8_sanitize(check.name)), status,
                           json_escape(one_line(check.reason.empty() && check.pass ? "ok" : check.reason)));
        if (const CheckEntry* entry = check.check) {
            const CheckState& state = entry->state;
            auto since = snapshot.wall_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(snapshot.now - state.since());
            out += fmt::format(
                R"(,"target":"{}","health":"{}","stale":{},"since":"{}","consecutive_successes":{},"consecutive_failures":{},"attempts":{},"last_latency_ms":{})",
                json_escape(utf8_sanitize(entry->config.target.name)), health_name(state.health()),
                state.stale(snapshot.now), format_rfc3339(since), state.consecutive_successes(),
                state.consecutive_failures(), state.attempts(), state.has_result() ? state.last_result().latency.count() : 0);
            if (!state.last_failure_reason().empty()) {
                out += fmt::format(R"(,"last_failure":"{}")", json_escape(one_line(state.last_failure_reason())));
            }
            if (state.has_result() && !state.last_result().parts.empty()) {
                out += R"(,"parts":[)";
                bool first_part = true;
                for (const check::CheckResult::Part& part : state.last_result().parts) {
                    out += fmt::format(R"({}{{"name":"{}","status":"{}","reason":"{}"}})", first_part ? "" : ",",
                                       json_escape(utf8_sanitize(part.name)), part.ok ? "ok" : "failed",
                                       json_escape(one_line(part.ok ? "ok" : part.reason)));
                    first_part = false;
                }
                out += ']';
            }
        }
        out += '}';
    }
    out += "]}\n";
    return out;
}

std::string format_metrics(const Snapshot& snapshot) {
    struct Family {
        std::string_view name, type, help;
    };
    static constexpr Family k_families[] = {
        {"healthgate_check_up", "gauge", "1 when the check is up (thresholds met) and its result is fresh, else 0."},
        {"healthgate_check_stale", "gauge", "1 when the check has had no result for longer than interval + timeout."},
        {"healthgate_check_latency_seconds", "gauge", "Duration of the check's last attempt."},
        {"healthgate_check_consecutive_failures", "gauge", "Failed attempts in a row."},
        {"healthgate_check_transitions_total", "counter", "Changes of the check's state (pending, up, down)."},
        {"healthgate_check_attempts_total", "counter", "Attempts finished."},
        {"healthgate_check_failures_total", "counter", "Attempts failed."},
    };
    std::string out;
    out.reserve(256 + 120 * 7 * 4);
    for (std::size_t family = 0; family < std::size(k_families); ++family) {
        const Family& f = k_families[family];
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, f.help, f.name, f.type);
        for (const GroupEntry& group : *snapshot.groups) {
            for (const CheckEntry& check : group.checks) {
                const CheckState& s = check.state;
                std::string value;
                switch (family) {
                    case 0: value = std::to_string(s.passes_readiness(snapshot.now) ? 1 : 0); break;
                    case 1: value = std::to_string(s.stale(snapshot.now) ? 1 : 0); break;
                    case 2: value = seconds(s.has_result() ? s.last_result().latency : Duration{0}); break;
                    case 3: value = std::to_string(s.consecutive_failures()); break;
                    case 4: value = std::to_string(s.transitions()); break;
                    case 5: value = std::to_string(s.attempts()); break;
                    default: value = std::to_string(s.failed_attempts()); break;
                }
                out += fmt::format("{}{{container=\"{}\",check=\"{}\"}} {}\n", f.name, prometheus_label(group.name),
                                   prometheus_label(check.config.name), value);
            }
        }
    }
    out += "# HELP healthgate_probe_up 1 when the probe endpoint answers 200, else 0.\n# TYPE healthgate_probe_up gauge\n";
    for (const GroupEntry& group : *snapshot.groups) {
        for (ProbeKind kind : k_probe_kinds) {
            out += fmt::format("healthgate_probe_up{{container=\"{}\",probe=\"{}\"}} {}\n", prometheus_label(group.name),
                               probe_kind_name(kind), evaluate_probe(group, kind, snapshot).pass ? 1 : 0);
        }
    }
    out += fmt::format("# HELP healthgate_draining 1 after SIGTERM, while readiness is drained.\n"
                       "# TYPE healthgate_draining gauge\nhealthgate_draining {}\n",
                       snapshot.draining ? 1 : 0);
    return out;
}

}  // namespace healthgate::probe
