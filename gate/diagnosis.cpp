#include "gate/diagnosis.hpp"

#include <fmt/format.h>

#include "check/describe.hpp"
#include "common/termination_message.hpp"
#include "common/text.hpp"

namespace healthgate::gate {
namespace {

Duration since(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration_cast<Duration>(to - from);
}

bool is_dns_failure(check::Failure failure) {
    switch (failure) {
        case check::Failure::dns_no_such_name:
        case check::Failure::dns_no_answer:
        case check::Failure::dns_server_unreachable:
        case check::Failure::dns_server_failure:
        case check::Failure::dns_too_few_answers:
        case check::Failure::dns_unexpected_answer: return true;
        default: return false;
    }
}

// What `kubectl describe pod` shows next to "Message:": the first pending
// target and its classified failure, how many more, and the verdict.
//   "tcp://postgres:5432: connection refused (and 1 more) — not ready after 5m00s"
std::string first_line(const std::vector<TargetStatus>& targets, std::size_t pending, const std::string& cause) {
    const TargetStatus* first = nullptr;
    for (const auto& t : targets) {
        if (!t.ready) {
            first = &t;
            break;
        }
    }
    if (!first) return fmt::format("all {} target{} ready — {}", targets.size(), targets.size() == 1 ? "" : "s", cause);
    std::string failure = first->attempts == 0 ? std::string("no attempt finished")
                                               : std::string(check::failure_name(first->last_failure));
    std::string more = pending > 1 ? fmt::format(" (and {} more)", pending - 1) : "";
    std::string head = fmt::format("{}: {}", first->target.name, failure);
    return fmt::format("{}{} — {}", utf8_prefix(head, k_max_target_line), more, cause);
}

}  // namespace

std::vector<std::string> diagnosis_lines(const DiagnosisInput& input) {
    const auto& targets = *input.targets;
    std::size_t pending = 0;
    bool dns_involved = false;
    for (const auto& t : targets) {
        if (!t.ready) {
            ++pending;
            dns_involved = dns_involved || is_dns_failure(t.last_failure);
        }
    }
    std::vector<std::string> lines;
    lines.push_back(first_line(targets, pending, input.cause));
    for (const auto& t : targets) {
        if (t.ready) continue;
        std::string line;
        if (t.attempts == 0) {
            line = fmt::format("[-] {}: no attempt finished", t.target.name);
        } else {
            line = fmt::format("[-] {}: {} ({} attempt{}, failing for {})", t.target.name,
                               check::describe_failure({t.last_failure, t.last_reason}), t.attempts,
                               t.attempts == 1 ? "" : "s", format_duration(since(t.failing_since, input.now)));
        }
        lines.emplace_back(utf8_prefix(line, k_max_target_line));
    }
    for (const auto& t : targets) {
        if (!t.ready) continue;
        lines.push_back(fmt::format("[+] {}: ready after {} ({} attempt{})", t.target.name,
                                    format_duration(since(input.start, t.ready_at)), t.attempts,
                                    t.attempts == 1 ? "" : "s"));
    }
    if (dns_involved && !input.resolver_summary.empty()) lines.push_back("resolver: " + input.resolver_summary);
    return lines;
}

std::string compose_diagnosis(const DiagnosisInput& input, std::size_t max_bytes) {
    return fit_message(diagnosis_lines(input), max_bytes);
}

std::string pending_summary(const std::vector<TargetStatus>& targets) {
    std::size_t pending = 0;
    std::string list;
    for (const auto& t : targets) {
        if (t.ready) continue;
        ++pending;
        if (!list.empty()) list += ", ";
        if (t.attempts == 0) {
            list += fmt::format("{} (first attempt running)", t.target.name);
        } else {
            list += fmt::format("{} ({}, {} attempt{})", t.target.name, check::failure_name(t.last_failure),
                                t.attempts, t.attempts == 1 ? "" : "s");
        }
    }
    return fmt::format("{} of {} pending: {}", pending, targets.size(), list);
}

}  // namespace healthgate::gate
