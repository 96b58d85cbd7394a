#pragma once
// serve's view of the pod's restart history (--histories DIR): the files
// `run --history DIR/history-NAME` keeps in the shared emptyDir (what
// `healthgate inject` sets up), as Prometheus metrics on /metrics. What
// cAdvisor and kube-state-metrics cannot see from outside the pod: whether
// an exit was the app's OOM kill, a child's, or a SIGKILL from elsewhere.
// Bounded: at most k_max_containers containers (sorted by name), a fixed
// set of verdicts, and the files keep the last 10 runs.
//   healthgate_container_recent_exits{container,verdict}   gauge: exits among the recorded runs
//   healthgate_container_last_exit_timestamp_seconds{container}
//   healthgate_container_last_runtime_seconds{container}
//   healthgate_container_last_memory_peak_bytes{container}
//   healthgate_container_last_memory_limit_bytes{container}
// verdict: oom_killed, oom_child, sigkill_not_oom, signal, exit_0, exit_1,
// exit_2, exit_other (3-125), exec_failed, killed_no_record.
#include <string>
#include <string_view>
#include <vector>

#include "common/run_history.hpp"

namespace healthgate::probe {

inline constexpr std::size_t k_max_containers = 16;

struct ContainerRuns {
    std::string container;
    std::vector<RunRecord> runs;  // oldest first
};

// DIR/history-NAME/healthgate-runs for each NAME that is a DNS label.
std::vector<ContainerRuns> load_histories(const std::string& dir);

// The verdict class of one recorded outcome ("OOMKilled", "exit 1",
// "SIGKILL (child OOMKilled)", "running", ...).
std::string_view verdict_class(std::string_view outcome);

std::string format_history_metrics(const std::vector<ContainerRuns>& containers);

}  // namespace healthgate::probe
