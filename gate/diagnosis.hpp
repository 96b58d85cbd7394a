#pragma once
// The diagnosis `wait` writes when it gives up: to the log and to the
// termination message, where `kubectl describe pod` shows it. Most important
// first: the first pending target, its classified failure and the verdict,
// then each pending target with its last error, then the
// ready ones, then the resolver settings when a DNS failure is involved.
#include <string>
#include <vector>

#include "gate/target_tracker.hpp"

namespace healthgate::gate {

// Longest line given to one pending target, so several targets fit in 4096 bytes.
inline constexpr std::size_t k_max_target_line = 700;

struct DiagnosisInput {
    std::string cause;              // "not ready after 5m00s" / "stopped by SIGTERM after 12.0s"
    const std::vector<TargetStatus>* targets = nullptr;
    Clock::time_point start{};
    Clock::time_point now{};
    std::string resolver_summary;   // shown only when a DNS failure is pending
};

std::vector<std::string> diagnosis_lines(const DiagnosisInput& input);
std::string compose_diagnosis(const DiagnosisInput& input, std::size_t max_bytes);

// "2 of 3 pending: db (connection refused, 40 attempts), cache (dns: no such name, 40 attempts)"
std::string pending_summary(const std::vector<TargetStatus>& targets);

}  // namespace healthgate::gate
