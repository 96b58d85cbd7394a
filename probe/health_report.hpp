#pragma once
// Output formats of the probe job, pure: the apiserver-style lines shared by
// `probe` and `serve`, and the exec probe's output, which the kubelet puts in
// the event ("Liveness probe failed: <output>", first 10 KiB kept).
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace healthgate::probe {

// The kubelet keeps the first 10 KiB of an exec probe's output; stay below.
inline constexpr std::size_t k_probe_output_max = 10 * 1024 - 256;
// One reason is one line of at most this many bytes.
inline constexpr std::size_t k_reason_max = 512;

struct ProbeLine {
    std::string name;
    bool pass = false;
    std::string reason;  // why it failed; ignored when pass
};

// "[+]name ok" or "[-]name failed: reason" (no newline). The reason becomes
// one line of valid UTF-8, at most k_reason_max bytes.
std::string format_line(std::string_view name, bool pass, std::string_view reason);
// The reason alone, made safe for one line.
std::string one_line(std::string_view text, std::size_t max_bytes = k_reason_max);

// The exec probe's output: one line per target, in order, each ending in a
// newline, at most `max_bytes` in total. When too long, passing lines are
// folded into one "[+]N more ok" line first, then failing lines are dropped
// from the end with a "[-]N more failed" line, so the failures always show.
std::string format_probe_output(const std::vector<ProbeLine>& lines, std::size_t max_bytes = k_probe_output_max);

// 2026-01-02T03:04:05.678Z
std::string format_rfc3339(std::chrono::system_clock::time_point time);

}  // namespace healthgate::probe
