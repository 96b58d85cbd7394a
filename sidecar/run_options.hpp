#pragma once
// Flags of `healthgate run` (each with a HEALTHGATE_* environment variable;
// flags win over the environment) and its --help text.
#include <optional>
#include <string>
#include <vector>

#include "common/duration.hpp"
#include "common/expected.hpp"
#include "common/log.hpp"
#include "common/termination_message.hpp"
#include "sidecar/last_lines.hpp"
#include "sidecar/verdict.hpp"

namespace healthgate::sidecar {

extern const char* const k_run_help;

struct RunOptions {
    std::vector<std::string> command;              // after "--"
    std::optional<std::string> termination_log;    // unset: /dev/termination-log when writable
    std::size_t max_bytes = k_termination_message_max;
    MessageFormat format = MessageFormat::text;
    std::optional<std::string> history_dir;
    bool signal_group = false;                     // forward to the app's process group
    Duration record_interval{10'000};              // flight record timer; 0 = only on peak rises
    Duration sample_interval{250};                 // memory and OOM counter sampling
    std::size_t tail_bytes = k_default_tail_bytes; // output kept for quoting
    std::optional<std::string> cgroup;             // memory cgroup directory override; "none"
    log::Format log_format = log::Format::text;
    log::Level log_level = log::Level::warn;  // the app's streams stay the app's
    bool help = false;
};

// Usage errors come back as one line: "run: --max-bytes: ...".
Expected<RunOptions> parse_run_options(const std::vector<std::string>& args);

}  // namespace healthgate::sidecar
