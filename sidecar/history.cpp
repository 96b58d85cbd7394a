#include "sidecar/history.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/format.h>
#include <unistd.h>

#include "common/text.hpp"

namespace healthgate::sidecar {

std::string display_outcome(const RunRecord& record) {
    if (record.outcome != k_outcome_running) return record.outcome;
    if (record.peak && record.limit && *record.limit > 0) {
        double percent = std::floor(static_cast<double>(*record.peak) * 100.0 / static_cast<double>(*record.limit));
        return fmt::format("killed at {:.0f}% of limit, no final record", percent);
    }
    return "killed, no final record";
}

HistorySummary summarize_history(const std::vector<RunRecord>& previous, std::int64_t now_ms) {
    HistorySummary summary;
    if (previous.empty()) return summary;
    summary.exits = static_cast<int>(previous.size()) + 1;
    std::int64_t oldest = previous.front().start_ms;
    for (const RunRecord& r : previous) oldest = std::min(oldest, r.start_ms);
    summary.span = Duration{std::max<std::int64_t>(0, now_ms - oldest)};
    for (auto it = previous.rbegin(); it != previous.rend() && summary.previous.size() < 3; ++it) {
        summary.previous.push_back(display_outcome(*it));
    }
    return summary;
}

std::string ordinal(int n) {
    const char* suffix = "th";
    int last_two = n % 100;
    if (last_two < 11 || last_two > 13) {
        switch (n % 10) {
            case 1: suffix = "st"; break;
            case 2: suffix = "nd"; break;
            case 3: suffix = "rd"; break;
            default: break;
        }
    }
    return fmt::format("{}{}", n, suffix);
}

std::string history_phrase(const HistorySummary& summary) {
    if (summary.exits < 2) return "";
    std::string phrase = fmt::format("{} exit in {}", ordinal(summary.exits), format_duration(summary.span));
    if (!summary.previous.empty()) {
        phrase += "; previous: ";
        for (std::size_t i = 0; i < summary.previous.size(); ++i) {
            if (i > 0) phrase += ", ";
            phrase += summary.previous[i];
        }
    }
    return phrase;
}

}  // namespace healthgate::sidecar
