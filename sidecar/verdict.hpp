#pragma once
// The diagnosis of one run, as the termination message: a first line with the
// verdict a person needs ("OOMKilled: peak 511.8Mi of 512Mi limit (99.9%)
// after 43.0s", "exit 1 after 2.1s: last output: FATAL: ..."), then detail
// (exit code or signal, runtime, memory, OOM kills, a hint from the exit-code
// table) and as many of the newest output lines as fit. Pure: every fact
// comes in RunFacts, so each case is unit-tested.
//
// Cases: running (the flight record), stopping (a stop signal was forwarded,
// the app still runs), completed (exit 0), error (exit N), oom_killed (SIGKILL
// and the cgroup's OOM-kill counter rose), child_oom_killed (the counter rose
// while the app lived or the app ended otherwise), killed (SIGKILL from
// elsewhere), signaled (any other signal), exec_failed (126/127).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.hpp"
#include "sidecar/cgroup_memory.hpp"
#include "sidecar/history.hpp"
#include "sidecar/last_lines.hpp"

namespace healthgate::sidecar {

enum class MessageFormat { text, json };

struct AppExit {
    enum class Kind { running, exited, signaled, exec_failed };
    Kind kind = Kind::running;
    int code = 0;             // exited: the app's code; exec_failed: 126 or 127
    int signal = 0;           // signaled: the signal number
    bool core_dumped = false;
    std::string exec_error;   // exec_failed: "exec /app/start.sh: no such file or directory"
};

struct MemoryFacts {
    std::optional<std::uint64_t> peak;
    std::optional<std::uint64_t> limit;  // nullopt: unlimited when limit_known, else unknown
    bool limit_known = false;
    std::string source;                  // "cgroup v2 /sys/fs/cgroup", "ru_maxrss of the app ..."
    // Where the limit is ("container", "pod", ...; "" when not named) and its
    // cgroup directory: the tightest memory.max from the container up.
    std::string limit_origin;
    std::string limit_dir;
    std::optional<std::uint64_t> high;   // the tightest memory.high, and where
    std::string high_origin;
    std::optional<bool> oom_group;       // memory.oom.group of the container's cgroup
    std::optional<MemoryEvents> events;  // rises of memory.events since the start (v2)
    std::optional<Pressure> pressure;    // memory.pressure at the time of the record
    std::optional<Pressure> worst_pressure;
    Duration worst_pressure_at{0};
    std::optional<std::uint64_t> swap;   // memory.swap.current when in use
    Duration sampled_at{0};              // when these figures were read (since the app started)
};
// The limit was reached while the app ran (memory.events max or oom rose).
bool reached_limit(const MemoryFacts& memory);
// The peak is within 5% of the limit.
bool near_limit(const MemoryFacts& memory);

struct OomFacts {
    bool known = false;             // the cgroup has an OOM-kill counter
    std::uint64_t kills = 0;        // its rise during this run
    std::uint64_t child_kills = 0;  // of those, seen while the app still lived
};

struct StopSignal {
    int signal = 0;
    Duration at{0};  // since the app started
};

struct RunFacts {
    AppExit exit;
    Duration runtime{0};
    MemoryFacts memory;
    OomFacts oom;
    std::optional<StopSignal> stop;  // the first SIGTERM/SIGINT/SIGQUIT/SIGHUP forwarded
    std::vector<OutputLine> output;  // the last lines, oldest first
    bool output_on_terminal = false;  // stdout or stderr is a terminal the app writes to itself: not quoted
    HistorySummary history;
};

enum class Verdict { running, stopping, completed, error, oom_killed, child_oom_killed, killed, signaled, exec_failed };

Verdict classify(const RunFacts& facts);
// What `run` exits with: the app's code, 128+N for signal N, 126/127.
int exit_code(const AppExit& exit);
// Short outcome for the history: "OOMKilled", "exit 1", "SIGSEGV", "SIGKILL", "exec failed".
std::string outcome_label(const RunFacts& facts);
// Kubernetes-like reason word for JSON: "OOMKilled", "Error", "Completed", ...
std::string reason_word(Verdict verdict);

std::string verdict_line(const RunFacts& facts);
std::string hint(const RunFacts& facts);  // the likely cause and what to do; "" when nothing to add

// 536870912 -> "512Mi", 536660000 -> "511.7Mi" (binary units, one decimal, rounded down).
std::string format_bytes(std::uint64_t bytes);
// "peak 511.8Mi of 512Mi limit (99.9%)", "peak 12Mi, no limit", "" when nothing is known.
std::string memory_phrase(const MemoryFacts& memory);

// The whole message, never longer than max_bytes, valid UTF-8 (and valid JSON
// for MessageFormat::json): detail first, then the newest output lines that fit.
std::string compose_message(const RunFacts& facts, MessageFormat format, std::size_t max_bytes);

}  // namespace healthgate::sidecar
