#include <catch2/catch.hpp>

#include "probe/history_metrics.hpp"

using namespace healthgate;
using namespace healthgate::probe;

TEST_CASE("each recorded outcome falls in one of a fixed set of verdicts", "[history_metrics]") {
    CHECK(verdict_class("OOMKilled") == "oom_killed");
    CHECK(verdict_class("exit 137 (child OOMKilled)") == "oom_child");
    CHECK(verdict_class("SIGKILL (child OOMKilled)") == "oom_child");
    CHECK(verdict_class("SIGKILL") == "sigkill_not_oom");
    CHECK(verdict_class("SIGSEGV") == "signal");
    CHECK(verdict_class("exit 0") == "exit_0");
    CHECK(verdict_class("exit 1") == "exit_1");
    CHECK(verdict_class("exit 2") == "exit_2");
    CHECK(verdict_class("exit 42") == "exit_other");
    CHECK(verdict_class("exec failed (127)") == "exec_failed");
    CHECK(verdict_class("running") == "killed_no_record");
    CHECK(verdict_class("anything a foreign file holds") == "exit_other");
}

TEST_CASE("the current run is not an exit; an earlier one left running was killed with healthgate", "[history_metrics]") {
    std::vector<ContainerRuns> pod{{"api",
                                    {{1000, 5000, 100, 200, "OOMKilled"},
                                     {6000, 7000, 150, 200, "running"},
                                     {8000, 9500, 50, std::nullopt, "exit 1"},
                                     {10000, 11000, 60, 200, "running"}}}};
    std::string text = format_history_metrics(pod);
    CHECK(text.find("healthgate_container_recent_exits{container=\"api\",verdict=\"oom_killed\"} 1\n") != std::string::npos);
    CHECK(text.find("healthgate_container_recent_exits{container=\"api\",verdict=\"killed_no_record\"} 1\n") != std::string::npos);
    CHECK(text.find("healthgate_container_recent_exits{container=\"api\",verdict=\"exit_1\"} 1\n") != std::string::npos);
    CHECK(text.find("healthgate_container_last_runtime_seconds{container=\"api\"} 1.5\n") != std::string::npos);
    CHECK(text.find("healthgate_container_last_exit_timestamp_seconds{container=\"api\"} 9.5\n") != std::string::npos);
    CHECK(text.find("healthgate_container_last_memory_peak_bytes{container=\"api\"} 50\n") != std::string::npos);
    CHECK(text.find("healthgate_container_last_memory_limit_bytes") == std::string::npos);  // no limit in the last run
    CHECK(format_history_metrics({}).empty());
}
