#include "sidecar/run_options.hpp"

#include <charconv>
#include <fmt/format.h>

#include "common/flags.hpp"
#include "common/text.hpp"

namespace healthgate::sidecar {

const char* const k_run_help = R"(Usage: healthgate run [FLAGS] -- COMMAND ARGS...

Runs COMMAND as a correct PID 1 (or, when not PID 1, as a child subreaper) and
records why it ended in the container's termination message, which
`kubectl describe pod` shows under Last State:
  OOMKilled: peak 511.8Mi of 512Mi limit (99.9%) after 43.0s
  exit 1 after 2.1s: last output: FATAL: DATABASE_URL is not set

- Forwards every signal to COMMAND (or its process group), kill()-sent SIGSEGV,
  SIGABRT and the like included; after SIGTSTP/SIGTTIN/SIGTTOU it stops itself
  too (job control). Signals ignored by its parent stay ignored for COMMAND.
  Reaps every zombie, orphaned grandchildren included, and exits with
  COMMAND's code.
- Passes COMMAND's stdout and stderr through unchanged and keeps the last
  lines to quote. COMMAND sees pipes, one for both when stdout and stderr are
  the same file (2>&1: their order is kept), and a terminal as the terminal
  itself (not quoted then). When our reader goes away, COMMAND's writes fail
  as they would without us (SIGPIPE/EPIPE). By default run adds nothing to
  the streams: its own lines appear only when run itself is in trouble.
- Reads the container's memory cgroup (v2 or v1: peak, limit, OOM kills);
  falls back to the children's ru_maxrss where none is readable.
- While COMMAND runs, keeps a "still running" record with the peak so far (on
  a timer and when the peak rises), so a kill of the whole container (a group
  OOM kill) still leaves the peak and limit behind.

Flags (environment variable in brackets):
  --termination-log PATH  where the record goes; "none" disables
                          [HEALTHGATE_TERMINATION_LOG] (default /dev/termination-log when writable)
  --max-bytes N           size limit of the record, 64..4096 (the kubelet keeps 4096;
                          pods with many containers keep less)    [HEALTHGATE_MAX_BYTES] (default 4096)
  --format text|json      format of the record                    [HEALTHGATE_FORMAT] (default text)
  --history DIR           keep a bounded record of past runs in DIR (an emptyDir that
                          outlives container restarts): "4th exit in 6m04s; previous: ..."
                          Give each container its own DIR.        [HEALTHGATE_HISTORY] (default off)
  --signal-group          forward signals to COMMAND's process group, not only to COMMAND;
                          when COMMAND exits, the rest of its group gets SIGTERM, and
                          SIGKILL 2s later        [HEALTHGATE_SIGNAL_GROUP] (default off)
  --record-interval DUR   rewrite the "still running" record every DUR; 0 = only when the
                          peak rises                              [HEALTHGATE_RECORD_INTERVAL] (default 10s)
  --sample-interval DUR   read memory and the OOM-kill counter every DUR
                                                                  [HEALTHGATE_SAMPLE_INTERVAL] (default 250ms)
  --tail-bytes N          bytes of recent output kept for quoting, 256..1048576
                                                                  [HEALTHGATE_TAIL_BYTES] (default 8192)
  --cgroup DIR            memory cgroup directory to read instead of the one found from
                          /proc/self/cgroup and mountinfo; "none" = use ru_maxrss
                                                                  [HEALTHGATE_CGROUP]
  --log-format text|json  healthgate's own log lines on stderr   [HEALTHGATE_LOG_FORMAT] (default text)
  --log-level LEVEL       debug|info|warn|error|off; info adds the verdict line on exit
                                                                  [HEALTHGATE_LOG_LEVEL] (default warn)

Exit codes:
  COMMAND's own exit code
  128+N  COMMAND died of signal N (137 SIGKILL / OOM kill, 143 SIGTERM, 139 SIGSEGV)
  126    COMMAND found but not executable (permission, format)
  127    COMMAND not found
  2      usage error (healthgate's own flags)

In a Deployment, without rebuilding the image: an init container runs
`healthgate install /hg` into an emptyDir, and the app's command becomes
`/hg/healthgate run -- ORIGINAL COMMAND`.
)";

namespace {

std::optional<std::string> parse_size(std::string_view value, std::size_t low, std::size_t high, std::size_t& out) {
    std::size_t number = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (value.empty() || ec != std::errc{} || end != value.data() + value.size()) {
        return fmt::format("expected a number of bytes, got \"{}\"", value);
    }
    if (number < low || number > high) return fmt::format("{} is out of range {}..{}", number, low, high);
    out = number;
    return std::nullopt;
}

std::vector<FlagSpec> run_flags(RunOptions& options) {
    auto duration_into = [](Duration& out, Duration minimum, bool allow_zero) {
        return [&out, minimum, allow_zero](std::string_view value) -> std::optional<std::string> {
            auto d = parse_duration(value);
            if (!d) return d.error();
            if (d->count() == 0 && allow_zero) {
                out = *d;
                return std::nullopt;
            }
            if (*d < minimum) return fmt::format("must be at least {}", format_duration(minimum));
            out = *d;
            return std::nullopt;
        };
    };
    std::vector<FlagSpec> specs = {
        {"termination-log", true, "HEALTHGATE_TERMINATION_LOG",
         [&options](std::string_view value) -> std::optional<std::string> {
             options.termination_log = std::string(value);
             return std::nullopt;
         }},
        {"max-bytes", true, "HEALTHGATE_MAX_BYTES",
         [&options](std::string_view value) { return parse_size(value, 64, k_termination_message_max, options.max_bytes); }},
        {"format", true, "HEALTHGATE_FORMAT",
         [&options](std::string_view value) -> std::optional<std::string> {
             if (value == "text") options.format = MessageFormat::text;
             else if (value == "json") options.format = MessageFormat::json;
             else return fmt::format("invalid format \"{}\": use text or json", value);
             return std::nullopt;
         }},
        {"history", true, "HEALTHGATE_HISTORY",
         [&options](std::string_view value) -> std::optional<std::string> {
             if (value.empty()) return std::string("empty directory name");
             options.history_dir = std::string(value);
             return std::nullopt;
         }},
        {"signal-group", false, "HEALTHGATE_SIGNAL_GROUP",
         [&options](std::string_view value) -> std::optional<std::string> {
             if (!parse_bool(value, options.signal_group)) return fmt::format("expected true or false, got \"{}\"", value);
             return std::nullopt;
         }},
        {"record-interval", true, "HEALTHGATE_RECORD_INTERVAL", duration_into(options.record_interval, Duration{100}, true)},
        {"sample-interval", true, "HEALTHGATE_SAMPLE_INTERVAL", duration_into(options.sample_interval, Duration{10}, false)},
        {"tail-bytes", true, "HEALTHGATE_TAIL_BYTES",
         [&options](std::string_view value) { return parse_size(value, 256, 1 << 20, options.tail_bytes); }},
        {"cgroup", true, "HEALTHGATE_CGROUP",
         [&options](std::string_view value) -> std::optional<std::string> {
             if (value.empty()) return std::string("empty directory name");
             options.cgroup = std::string(value);
             return std::nullopt;
         }},
    };
    for (FlagSpec& spec : log_flags(options.log_format, options.log_level)) specs.push_back(std::move(spec));
    return specs;
}

}  // namespace

Expected<RunOptions> parse_run_options(const std::vector<std::string>& args) {
    RunOptions options;
    std::vector<FlagSpec> specs = run_flags(options);
    auto parsed = parse_flags(args, specs, "run");
    if (!parsed) return Error{parsed.error()};
    if (parsed->help) {
        options.help = true;
        return options;
    }
    if (auto problem = apply_flags(env_flags(specs), "run")) return make_error(*problem);
    if (auto problem = apply_flags(parsed->flags, "run")) return make_error(*problem);
    if (!parsed->positionals.empty()) {
        return make_error(fmt::format("run: unexpected argument \"{}\": put -- before the command "
                                      "(healthgate run [FLAGS] -- COMMAND ARGS...)",
                                      parsed->positionals.front()));
    }
    if (parsed->command.empty()) {
        return make_error("run: no command given (healthgate run [FLAGS] -- COMMAND ARGS...)");
    }
    options.command = std::move(parsed->command);
    return options;
}

}  // namespace healthgate::sidecar
