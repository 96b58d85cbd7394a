#include "probe/history_metrics.hpp"

#include <algorithm>
#include <dirent.h>
#include <fmt/format.h>

namespace healthgate::probe {

namespace {

constexpr std::string_view k_prefix = "history-";
constexpr std::string_view k_verdicts[] = {"oom_killed", "oom_child", "sigkill_not_oom", "signal", "exit_0",
                                           "exit_1", "exit_2", "exit_other", "exec_failed", "killed_no_record"};

bool dns_label(std::string_view name) {
    if (name.empty() || name.size() > 63) return false;
    return std::all_of(name.begin(), name.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

// The runs that ended: every record but a "running" one at the end (the run
// going on now). A "running" record before the last never got its final
// record: its process was killed together with healthgate.
std::size_t ended_count(const std::vector<RunRecord>& runs) {
    return !runs.empty() && runs.back().outcome == k_outcome_running ? runs.size() - 1 : runs.size();
}

}  // namespace

std::vector<ContainerRuns> load_histories(const std::string& dir) {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* entry = ::readdir(d)) {
            std::string_view name = entry->d_name;
            if (name.starts_with(k_prefix) && dns_label(name.substr(k_prefix.size()))) names.emplace_back(name.substr(k_prefix.size()));
        }
        ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    if (names.size() > k_max_containers) names.resize(k_max_containers);
    std::vector<ContainerRuns> out;
    for (const std::string& name : names) {
        auto runs = load_history(fmt::format("{}/{}{}", dir, k_prefix, name));
        if (!runs.empty()) out.push_back(ContainerRuns{name, std::move(runs)});
    }
    return out;
}

std::string_view verdict_class(std::string_view outcome) {
    if (outcome == "OOMKilled") return "oom_killed";
    if (outcome.find("(child OOMKilled)") != std::string_view::npos) return "oom_child";
    if (outcome == k_outcome_running) return "killed_no_record";
    if (outcome.starts_with("exec failed")) return "exec_failed";
    if (outcome == "SIGKILL") return "sigkill_not_oom";
    if (outcome.starts_with("SIG")) return "signal";
    if (outcome == "exit 0") return "exit_0";
    if (outcome == "exit 1") return "exit_1";
    if (outcome == "exit 2") return "exit_2";
    return "exit_other";
}

std::string format_history_metrics(const std::vector<ContainerRuns>& containers) {
    if (containers.empty()) return "";
    std::string out =
        "# HELP healthgate_container_recent_exits Exits of a container wrapped by healthgate run, among its last "
        "recorded runs, by verdict.\n# TYPE healthgate_container_recent_exits gauge\n";
    for (const ContainerRuns& c : containers) {
        std::size_t ended = ended_count(c.runs);
        for (std::string_view verdict : k_verdicts) {
            long n = std::count_if(c.runs.begin(), c.runs.begin() + static_cast<long>(ended),
                                   [&](const RunRecord& r) { return verdict_class(r.outcome) == verdict; });
            out += fmt::format("healthgate_container_recent_exits{{container=\"{}\",verdict=\"{}\"}} {}\n", c.container,
                               verdict, n);
        }
    }
    struct Gauge {
        const char* name;
        const char* help;
    };
    static constexpr Gauge k_gauges[] = {
        {"healthgate_container_last_exit_timestamp_seconds", "When the container's last recorded run ended (Unix time)."},
        {"healthgate_container_last_runtime_seconds", "How long the container's last recorded run ran."},
        {"healthgate_container_last_memory_peak_bytes", "Memory peak of the container's last recorded run (cgroup)."},
        {"healthgate_container_last_memory_limit_bytes", "Memory limit during the container's last recorded run."},
    };
    for (std::size_t g = 0; g < std::size(k_gauges); ++g) {
        std::string lines;
        for (const ContainerRuns& c : containers) {
            std::size_t ended = ended_count(c.runs);
            if (ended == 0) continue;
            const RunRecord& last = c.runs[ended - 1];
            std::optional<double> value;
            if (g == 0) value = static_cast<double>(last.end_ms) / 1000.0;
            if (g == 1) value = static_cast<double>(std::max<std::int64_t>(0, last.end_ms - last.start_ms)) / 1000.0;
            if (g == 2 && last.peak) value = static_cast<double>(*last.peak);
            if (g == 3 && last.limit) value = static_cast<double>(*last.limit);
            if (value) lines += fmt::format("{}{{container=\"{}\"}} {}\n", k_gauges[g].name, c.container, *value);
        }
        if (!lines.empty()) {
            out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{}", k_gauges[g].name, k_gauges[g].help, k_gauges[g].name, lines);
        }
    }
    return out;
}

}  // namespace healthgate::probe
