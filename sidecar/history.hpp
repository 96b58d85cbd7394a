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
#include "common/run_history.hpp"

namespace healthgate::sidecar {

using healthgate::format_history;
using healthgate::k_history_file;
using healthgate::k_history_max_records;
using healthgate::k_outcome_running;
using healthgate::load_history;
using healthgate::parse_history;
using healthgate::RunRecord;
using healthgate::save_history;

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

}  // namespace healthgate::sidecar
