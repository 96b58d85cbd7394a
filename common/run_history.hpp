#pragma once
// The file of past runs that `run --history DIR` keeps in an emptyDir and
// `serve --histories DIR` reads for /metrics: one line per run,
// "v1 START_MS END_MS PEAK LIMIT OUTCOME..." (wall-clock milliseconds, bytes
// or "-"). A run is recorded as "running" when it starts and rewritten when
// it ends; one still "running" at the next start was killed together with
// healthgate (a group OOM kill).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace healthgate {

inline constexpr std::size_t k_history_max_records = 10;
inline constexpr std::string_view k_outcome_running = "running";
inline constexpr const char* k_history_file = "healthgate-runs";

struct RunRecord {
    std::int64_t start_ms = 0;
    std::int64_t end_ms = 0;  // for a running record: its last update
    std::optional<std::uint64_t> peak;
    std::optional<std::uint64_t> limit;
    std::string outcome;      // "OOMKilled", "exit 1", "SIGSEGV", ... or "running"

    bool operator==(const RunRecord&) const = default;
};

// Keeps the newest k_history_max_records; outcomes are cut to one short line.
std::string format_history(const std::vector<RunRecord>& records);
// Skips lines it does not understand (a torn or foreign file is no reason to fail).
std::vector<RunRecord> parse_history(std::string_view text);

// File I/O in DIR/healthgate-runs. save writes a temporary file and renames it
// (an emptyDir is an ordinary directory) and returns an error naming the call.
std::vector<RunRecord> load_history(const std::string& dir);
std::optional<std::string> save_history(const std::string& dir, const std::vector<RunRecord>& records);

}  // namespace healthgate
