#include "common/flags.hpp"

#include <cstdlib>
#include <fmt/format.h>

namespace healthgate {

Expected<ParsedArgs> parse_flags(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs,
                                 std::string_view command) {
    ParsedArgs parsed;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") {
            parsed.has_command = true;
            parsed.command.assign(args.begin() + static_cast<long>(i) + 1, args.end());
            break;
        }
        if (arg == "-h" || arg == "--help") {
            parsed.help = true;
            continue;
        }
        if (arg.size() < 2 || arg[0] != '-' ) {
            parsed.positionals.push_back(arg);
            continue;
        }
        if (arg.rfind("--", 0) != 0) {
            return make_error(fmt::format("{}: unknown flag {} (flags start with --; see healthgate {} --help)", command,
                                          arg, command));
        }
        std::string name = arg.substr(2);
        std::optional<std::string> inline_value;
        if (auto eq = name.find('='); eq != std::string::npos) {
            inline_value = name.substr(eq + 1);
            name.resize(eq);
        }
        const FlagSpec* spec = nullptr;
        for (const FlagSpec& candidate : specs) {
            if (candidate.name == name) spec = &candidate;
        }
        if (!spec) {
            return make_error(fmt::format("{}: unknown flag --{} (see healthgate {} --help)", command, name, command));
        }
        std::string value;
        if (!spec->takes_value) {
            value = inline_value.value_or("true");
        } else if (inline_value) {
            value = *inline_value;
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            return make_error(fmt::format("{}: flag --{} needs a value", command, name));
        }
        parsed.flags.push_back(FlagValue{spec, std::move(value), "--" + name});
    }
    return parsed;
}

std::function<std::optional<std::string>(std::string_view)> set_duration(Duration& out, bool allow_zero) {
    return [&out, allow_zero](std::string_view value) -> std::optional<std::string> {
        auto d = parse_duration(value);
        if (!d) return d.error();
        if (d->count() < 0 || (!allow_zero && d->count() == 0)) return std::string("must be positive");
        out = *d;
        return std::nullopt;
    };
}

std::function<std::optional<std::string>(std::string_view)> set_path(std::string& out) {
    return [&out](std::string_view value) -> std::optional<std::string> {
        if (value.empty()) return std::string("empty path");
        out = std::string(value);
        return std::nullopt;
    };
}

std::vector<FlagSpec> log_flags(log::Format& format, log::Level& level) {
    return {
        {"log-format", true, "HEALTHGATE_LOG_FORMAT",
         [&format](std::string_view value) -> std::optional<std::string> {
             auto f = log::parse_format(value);
             if (!f) return f.error();
             format = *f;
             return std::nullopt;
         }},
        {"log-level", true, "HEALTHGATE_LOG_LEVEL",
         [&level](std::string_view value) -> std::optional<std::string> {
             auto l = log::parse_level(value);
             if (!l) return l.error();
             level = *l;
             return std::nullopt;
         }},
    };
}

std::optional<std::string> flag_value(std::string_view name, const std::vector<FlagValue>& env,
                                      const std::vector<FlagValue>& flags) {
    std::optional<std::string> value;
    for (const auto* source : {&env, &flags}) {
        for (const FlagValue& flag : *source) {
            if (flag.spec->name == name) value = flag.value;
        }
    }
    return value;
}

std::vector<FlagValue> env_flags(const std::vector<FlagSpec>& specs) {
    std::vector<FlagValue> values;
    for (const FlagSpec& spec : specs) {
        if (spec.env.empty()) continue;
        if (const char* value = std::getenv(spec.env.c_str())) values.push_back(FlagValue{&spec, value, spec.env});
    }
    return values;
}

std::optional<std::string> apply_flags(const std::vector<FlagValue>& values, std::string_view command) {
    for (const FlagValue& flag : values) {
        if (auto problem = flag.spec->apply(flag.value)) {
            return fmt::format("{}: {}: {}", command, flag.origin, *problem);
        }
    }
    return std::nullopt;
}

}  // namespace healthgate
