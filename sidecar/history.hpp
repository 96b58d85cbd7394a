#pragma once
// A bounded record of past runs in a directory that outlives container
// restarts (an emptyDir), so the verdict can say "4th exit in 6m; previous:
// OOMKilled, OOMKilled, exit 1" where Kubernetes keeps only one lastState.
// One line per run: "v1 START_MS END_MS PEAK LIMIT OUTCOME..." (wall-clock
// milliseconds, bytes or "-"). A run is recorded as "running" when it starts
// and rewritten when it ends; one still "running" at the next start was
// killed together with healthgate (a group OOM kill).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.hpp"

namespace healthgate::sidecar {

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

// How a past run reads in the verdict; a run that never got a final record
// says so, with its last known peak when there was a limit.
std::string display_outcome(const RunRecord& record);

struct HistorySummary {
    int exits = 0;                      // counting this one; 0 when there is no history
    Duration span{0};                   // from the oldest recorded start to now
    std::vector<std::string> previous;  // newest first, at most 3
};
HistorySummary summarize_history(const std::vector<RunRecord>& previous, std::int64_t now_ms);
// "4th exit in 6m04s; previous: OOMKilled, OOMKilled, exit 1", or "" for a first run.
std::string history_phrase(const HistorySummary& summary);
std::string ordinal(int n);  // 1st 2nd 3rd 4th 11th 12th 13th 21st

// File I/O in DIR/healthgate-runs. save writes a temporary file and renames it
// (an emptyDir is an ordinary directory) and returns an error naming the call.
std::vector<RunRecord> load_history(const std::string& dir);
std::optional<std::string> save_history(const std::string& dir, const std::vector<RunRecord>& records);

}  // namespace healthgate::sidecar
