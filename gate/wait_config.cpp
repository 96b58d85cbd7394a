#include "gate/wait_config.hpp"

#include <cstdlib>
#include <fmt/format.h>

#include "common/flags.hpp"
#include "common/text.hpp"
#include "common/yaml_config.hpp"

namespace healthgate::gate {

namespace {

const char* const k_wait_help_template = R"(Usage: healthgate wait [FLAGS] TARGET... [-- COMMAND ARGS...]

Waits until every TARGET is ready, then exits 0 — or execs COMMAND (replacing
itself: same PID, arguments passed untouched, no environment expansion).
All targets are checked in parallel, each with its own backoff and jitter.

@TARGETS@
Flags (environment variable in brackets):
  --timeout DUR            give up after DUR; 0 waits forever   [HEALTHGATE_TIMEOUT]   (default 5m)
  --attempt-timeout DUR    limit of one attempt                 [HEALTHGATE_ATTEMPT_TIMEOUT] (default 3s)
  --backoff-initial DUR    first retry delay                    [HEALTHGATE_BACKOFF_INITIAL] (default 100ms)
  --backoff-factor F       growth per attempt                   [HEALTHGATE_BACKOFF_FACTOR] (default 1.1)
  --backoff-max DUR        retry delay cap                      [HEALTHGATE_BACKOFF_MAX] (default 2s)
  --jitter F               spread each delay by ±F              [HEALTHGATE_JITTER] (default 0.2)
  --summary-interval DUR   log what is still pending every DUR; 0 = off [HEALTHGATE_SUMMARY_INTERVAL] (default 15s)
  --config FILE            YAML file with the same settings     [HEALTHGATE_CONFIG]
  --resolv-conf PATH       resolver config                      [HEALTHGATE_RESOLV_CONF] (default /etc/resolv.conf)
  --termination-log PATH   where the diagnosis goes when giving up; "none" disables
                           [HEALTHGATE_TERMINATION_LOG] (default /dev/termination-log when writable)
  --log-format text|json   [HEALTHGATE_LOG_FORMAT] (default text)
  --log-level LEVEL        debug|info|warn|error|off [HEALTHGATE_LOG_LEVEL] (default info)
  Targets may also come from HEALTHGATE_TARGETS (separated by spaces or newlines)
  and from the config file's `targets:` list; all sources are combined.

Exit codes:
  0    every target ready (or COMMAND's own code, when exec'd)
  1    not ready by the deadline (the diagnosis is logged and written to the termination log)
  2    usage or configuration error
  126  COMMAND not executable;  127  COMMAND not found
  128+N  stopped by signal N (143 for SIGTERM, 130 for SIGINT)
)";

}  // namespace

std::string wait_help() {
    std::string text = k_wait_help_template;
    std::string_view marker = "@TARGETS@\n";
    text.replace(text.find(marker), marker.size(), target_kinds_help() + "\n");
    return text;
}

namespace {

std::vector<FlagSpec> wait_flags(WaitConfig& config, std::optional<std::string>& config_file) {
    auto duration_into = set_duration;
    auto number_into = [](double& out) {
        return [&out](std::string_view value) -> std::optional<std::string> {
            try {
                std::size_t used = 0;
                double parsed = std::stod(std::string(value), &used);
                if (used == value.size()) {
                    out = parsed;
                    return std::nullopt;
                }
            } catch (const std::exception&) {
            }
            return fmt::format("expected a number, got \"{}\"", value);
        };
    };
    std::vector<FlagSpec> specs = {
        {"timeout", true, "HEALTHGATE_TIMEOUT", duration_into(config.timeout, true)},
        {"attempt-timeout", true, "HEALTHGATE_ATTEMPT_TIMEOUT", duration_into(config.attempt_timeout, false)},
        {"backoff-initial", true, "HEALTHGATE_BACKOFF_INITIAL", duration_into(config.backoff.initial, false)},
        {"backoff-factor", true, "HEALTHGATE_BACKOFF_FACTOR", number_into(config.backoff.factor)},
        {"backoff-max", true, "HEALTHGATE_BACKOFF_MAX", duration_into(config.backoff.max, false)},
        {"jitter", true, "HEALTHGATE_JITTER", number_into(config.backoff.jitter)},
        {"summary-interval", true, "HEALTHGATE_SUMMARY_INTERVAL", duration_into(config.summary_interval, true)},
        {"resolv-conf", true, "HEALTHGATE_RESOLV_CONF", set_path(config.resolv_conf)},
        {"termination-log", true, "HEALTHGATE_TERMINATION_LOG",
         [&config](std::string_view value) -> std::optional<std::string> {
             config.termination_log = std::string(value);
             return std::nullopt;
         }},
        {"config", true, "HEALTHGATE_CONFIG",
         [&config_file](std::string_view value) -> std::optional<std::string> {
             config_file = std::string(value);
             return std::nullopt;
         }},
    };
    for (FlagSpec& spec : log_flags(config.log_format, config.log_level)) specs.push_back(std::move(spec));
    return specs;
}

// YAML keys are the flag names with '_' for '-'; `backoff:` may also be a
// map {initial, factor, max, jitter}.
std::optional<std::string> apply_yaml(const std::string& file, const YAML::Node& root, const std::vector<FlagSpec>& specs,
                                      std::vector<Target>& targets) {
    auto find_spec = [&](const std::string& name) -> const FlagSpec* {
        for (const FlagSpec& spec : specs) {
            if (spec.name == name && name != "config") return &spec;
        }
        return nullptr;
    };
    auto apply_scalar = [&](const FlagSpec& spec, const std::string& key, const YAML::Node& value)
        -> std::optional<std::string> {
        auto text = yaml_string(file, value, key);
        if (!text) return text.error();
        if (auto problem = spec.apply(*text)) return fmt::format("{}{}: {}", yaml_where(file, value), key, *problem);
        return std::nullopt;
    };
    for (const auto& entry : root) {
        std::string key = entry.first.Scalar();
        const YAML::Node& value = entry.second;
        if (key == "targets") {
            if (!value.IsSequence()) return yaml_where(file, value) + "targets: expected a list of targets";
            for (const auto& item : value) {
                auto target = yaml_target(file, item);
                if (!target) return target.error();
                targets.push_back(std::move(*target));
            }
            continue;
        }
        if (key == "backoff" && value.IsMap()) {
            for (const auto& sub : value) {
                std::string sub_key = sub.first.Scalar();
                const FlagSpec* spec = find_spec(sub_key == "jitter" ? "jitter" : "backoff-" + sub_key);
                if (!spec) {
                    return fmt::format("{}unknown key backoff.{} (use initial, factor, max, jitter)",
                                       yaml_where(file, sub.first), sub_key);
                }
                if (auto problem = apply_scalar(*spec, "backoff." + sub_key, sub.second)) return problem;
            }
            continue;
        }
        std::string flag_name = key;
        for (char& c : flag_name) {
            if (c == '_') c = '-';
        }
        const FlagSpec* spec = find_spec(flag_name);
        if (!spec) {
            return fmt::format("{}unknown key \"{}\" (see healthgate wait --help)", yaml_where(file, entry.first), key);
        }
        if (auto problem = apply_scalar(*spec, key, value)) return problem;
    }
    return std::nullopt;
}

}  // namespace

Expected<WaitConfig> load_wait_config(const std::vector<std::string>& args) {
    WaitConfig config;
    std::optional<std::string> config_file;
    const std::vector<FlagSpec> specs = wait_flags(config, config_file);

    auto parsed = parse_flags(args, specs, "wait");
    if (!parsed) return make_error(parsed.error());
    if (parsed->help) {
        config.help = true;
        return config;
    }
    std::vector<FlagValue> env = env_flags(specs);

    // The config file path itself may come from a flag or the environment.
    config_file = flag_value("config", env, parsed->flags);
    if (config_file) {
        auto root = load_yaml_file(*config_file);
        if (!root) return make_error("wait: " + root.error());
        if (auto problem = apply_yaml(*config_file, *root, specs, config.targets)) return make_error("wait: " + *problem);
    }
    if (auto problem = apply_flags(env, "wait")) return make_error(*problem);
    if (const char* env_targets = std::getenv("HEALTHGATE_TARGETS")) {
        std::string text(env_targets);
        for (char& c : text) {
            if (c == '\n' || c == '\t' || c == '\r') c = ' ';
        }
        for (std::string_view item : split(text, ' ')) {
            if (item.empty()) continue;
            auto target = parse_target(item);
            if (!target) return make_error("wait: HEALTHGATE_TARGETS: " + target.error());
            config.targets.push_back(std::move(*target));
        }
    }
    if (auto problem = apply_flags(parsed->flags, "wait")) return make_error(*problem);
    for (const std::string& positional : parsed->positionals) {
        auto target = parse_target(positional);
        if (!target) return make_error("wait: " + target.error());
        config.targets.push_back(std::move(*target));
    }

    if (auto problem = validate(config.backoff)) return make_error("wait: " + *problem);
    if (config.targets.empty()) {
        return make_error("wait: no targets given (as arguments, HEALTHGATE_TARGETS or targets: in --config; see healthgate wait --help)");
    }
    for (std::size_t i = 0; i < config.targets.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (config.targets[i].name == config.targets[j].name) {
                return make_error(fmt::format("wait: target \"{}\" is given twice (set name= to tell them apart)",
                                              config.targets[i].name));
            }
        }
    }
    if (parsed->has_command && parsed->command.empty()) return make_error("wait: nothing after \"--\": give a command to run");
    config.command = parsed->command;
    return config;
}

}  // namespace healthgate::gate
