#pragma once
// Command-line flags shared by every subcommand: `--name value` or
// `--name=value`, boolean flags without a value, `--` ends the flags.
// Each flag may also come from an environment variable (HEALTHGATE_NAME).
// Parsing collects (flag, value) pairs without applying them, so a command
// can apply its config file first, then env, then flags (later wins).
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.hpp"
#include "common/expected.hpp"
#include "common/log.hpp"

namespace healthgate {

struct FlagSpec {
    std::string name;          // without dashes: "timeout"
    bool takes_value = true;   // false: a switch, value "true"
    std::string env;           // "HEALTHGATE_TIMEOUT"; empty: no env var
    // Applies the value; returns an error message naming the problem.
    std::function<std::optional<std::string>(std::string_view value)> apply;
};

struct FlagValue {
    const FlagSpec* spec;
    std::string value;
    std::string origin;        // "--timeout" or "HEALTHGATE_TIMEOUT", for errors
};

struct ParsedArgs {
    std::vector<FlagValue> flags;        // in command-line order
    std::vector<std::string> positionals;
    std::vector<std::string> command;    // everything after "--"
    bool has_command = false;
    bool help = false;                   // -h / --help seen
};

// Setters shared by the commands' flag tables.
std::function<std::optional<std::string>(std::string_view)> set_duration(Duration& out, bool allow_zero);
std::function<std::optional<std::string>(std::string_view)> set_path(std::string& out);

// --log-format and --log-level (HEALTHGATE_LOG_FORMAT, HEALTHGATE_LOG_LEVEL),
// the same for every command.
std::vector<FlagSpec> log_flags(log::Format& format, log::Level& level);

// `command` names the subcommand in errors ("healthgate wait: unknown flag --x").
Expected<ParsedArgs> parse_flags(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs,
                                 std::string_view command);

// Values of the specs' environment variables that are set, in spec order.
std::vector<FlagValue> env_flags(const std::vector<FlagSpec>& specs);

// The value of flag `name` from the environment, then the command line (the
// later one wins): for a flag needed before the others apply, such as the
// config file they may override.
std::optional<std::string> flag_value(std::string_view name, const std::vector<FlagValue>& env,
                                      const std::vector<FlagValue>& flags);

// Applies values in order; the first error is returned as
// "<command>: <origin>: <problem>".
std::optional<std::string> apply_flags(const std::vector<FlagValue>& values, std::string_view command);

}  // namespace healthgate
