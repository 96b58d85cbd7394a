#pragma once
// Configuration of `healthgate wait`, from three sources with one meaning:
// a YAML file (--config), environment variables (HEALTHGATE_*), and flags.
// Later sources win: file < env < flags. Targets from all three are combined.
#include <optional>
#include <string>
#include <vector>

#include "common/backoff.hpp"
#include "common/duration.hpp"
#include "common/expected.hpp"
#include "common/log.hpp"
#include "common/target.hpp"

namespace healthgate::gate {

struct WaitConfig {
    std::vector<Target> targets;
    Duration timeout{5 * 60 * 1000};          // overall deadline; 0 = wait forever
    Duration attempt_timeout{3000};           // per attempt, unless a target sets timeout=
    BackoffPolicy backoff;
    Duration summary_interval{15000};         // periodic "still waiting" line; 0 = off
    log::Format log_format = log::Format::text;
    log::Level log_level = log::Level::info;
    std::string resolv_conf = "/etc/resolv.conf";
    std::optional<std::string> termination_log;  // unset: /dev/termination-log when writable
    std::vector<std::string> command;         // after "--": exec'd when ready
    bool help = false;
};

// Builds the configuration from the command line (args after "wait") and the
// environment. Errors are one line naming the bad value (file:line for YAML).
Expected<WaitConfig> load_wait_config(const std::vector<std::string>& args);

// `wait --help`; the kinds and their options come from the kinds' tables.
std::string wait_help();

}  // namespace healthgate::gate
