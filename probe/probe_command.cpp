// `healthgate probe TARGET...`: an exec probe. One attempt at each target,
// all in parallel under one deadline, one apiserver-style line per target on
// stdout (the kubelet puts it in the event), exit 0/1/2. No child process, no
// file, no thread: it runs every period in every pod, so it is kept cheap.
#include "probe/probe_command.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <optional>
#include <unistd.h>

#include "check/check.hpp"
#include "check/describe.hpp"
#include "common/error_line.hpp"
#include "common/exit_codes.hpp"
#include "common/flags.hpp"
#include "common/target.hpp"
#include "probe/check_state.hpp"
#include "probe/health_report.hpp"
#include "probe/status_socket.hpp"

namespace healthgate::probe {

namespace asio = boost::asio;

namespace {

// Well under the kubelet's default timeoutSeconds (1s), which also has to
// cover starting the exec in the container: healthgate answers with the
// reason before the kubelet gives up with "command timed out".
constexpr Duration k_default_timeout{700};
// The checker bounds each attempt by its timeout; this is the backstop.
constexpr Duration k_backstop{200};

constexpr const char* k_probe_help = R"(Usage: healthgate probe [FLAGS] TARGET...
       healthgate probe --from unix:///PATH/serve.sock ENDPOINT

An exec probe: one attempt at each TARGET, all in parallel under one deadline.
Prints one line per target, in the style of the apiserver's /readyz?verbose:
  [+]http://127.0.0.1:8080/healthz ok
  [-]tcp://127.0.0.1:5432 failed: connect 127.0.0.1:5432: connection refused
The kubelet shows this output in the pod's events (kubectl describe pod):
  Warning  Unhealthy  ...  Liveness probe failed: [-]tcp://127.0.0.1:5432 failed: ...
Output stays under 10 KiB (the kubelet keeps the first 10 KiB).

  livenessProbe:
    exec:
      command: ["/healthgate/healthgate", "probe", "http://127.0.0.1:8080/healthz"]

Targets and their '#' options are those of `healthgate wait` (the kinds and
their options: healthgate wait --help);  e.g. http://127.0.0.1:8080/healthz#status=200&body=ok
A target's timeout= option shortens its own attempt; it never extends --timeout.

--from unix://PATH ENDPOINT asks a `healthgate serve --socket PATH` for its
cached answer of ENDPOINT (readyz, livez, startupz, CONTAINER/readyz, ...)
and prints its [+]/[-] lines without running any check: an exec probe whose
event names the failing dependency, at the cost of one tiny exec.

Flags (environment variable in brackets):
  --timeout DUR        deadline for all attempts (default 700ms, under the
                       kubelet's default timeoutSeconds: 1)  [HEALTHGATE_PROBE_TIMEOUT]
  --resolv-conf PATH   resolver config (default /etc/resolv.conf)  [HEALTHGATE_RESOLV_CONF]

Exit codes:
  0  every target healthy
  1  at least one target unhealthy (or no answer within the deadline)
  2  usage error (bad flag, bad target, unreadable resolver config)
)";

struct ProbeOptions {
    Duration timeout = k_default_timeout;
    std::string resolv_conf = "/etc/resolv.conf";
    bool resolv_conf_given = false;  // by flag or env: then it is read (and checked) even if unused
};

std::vector<FlagSpec> probe_flags(ProbeOptions& options) {
    return {
        {"timeout", true, "HEALTHGATE_PROBE_TIMEOUT",
         [&options](std::string_view value) -> std::optional<std::string> {
             auto d = parse_duration(value);
             if (!d) return d.error();
             if (d->count() <= 0) return std::string("must be positive");
             options.timeout = *d;
             return std::nullopt;
         }},
        {"resolv-conf", true, "HEALTHGATE_RESOLV_CONF",
         [&options](std::string_view value) -> std::optional<std::string> {
             if (value.empty()) return std::string("empty path");
             options.resolv_conf = std::string(value);
             options.resolv_conf_given = true;
             return std::nullopt;
         }},
    };
}

}  // namespace

int probe_main(const std::vector<std::string>& args) {
    if (!args.empty() && (args[0] == "--from" || args[0].starts_with("--from="))) return probe_from_main(args);
    ProbeOptions options;
    const std::vector<FlagSpec> specs = probe_flags(options);
    auto parsed = parse_flags(args, specs, "probe");
    if (!parsed) return usage_error(parsed.error(), args);
    if (parsed->help) {
        std::fputs(k_probe_help, stdout);
        return k_exit_ok;
    }
    if (parsed->has_command) return usage_error("probe: unexpected \"--\" (probe runs no command)", args);
    if (auto problem = apply_flags(env_flags(specs), "probe")) return usage_error(*problem, args);
    if (auto problem = apply_flags(parsed->flags, "probe")) return usage_error(*problem, args);
    std::vector<Target> targets;
    for (const std::string& text : parsed->positionals) {
        auto target = parse_target(text);
        if (!target) return usage_error("probe: " + target.error(), args);
        targets.push_back(std::move(*target));
    }
    if (targets.empty()) return usage_error("probe: no targets given (see healthgate probe --help)", args);

    // One thread, no locking: nothing else calls into asio (signals arrive through a pipe).
    asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
    check::CheckerOptions checker_options{options.resolv_conf};
    checker_options.names_needed =
        options.resolv_conf_given || std::any_of(targets.begin(), targets.end(), check::needs_name_lookup);
    auto checker = check::Checker::create(io, checker_options);
    if (!checker) return usage_error("probe: " + checker.error(), args);

    std::vector<std::optional<check::CheckResult>> results(targets.size());
    std::size_t pending = targets.size();
    asio::steady_timer backstop(io);
    backstop.expires_after(options.timeout + k_backstop);
    backstop.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) io.stop();
    });
    for (std::size_t i = 0; i < targets.size(); ++i) {
        Duration timeout = std::min(targets[i].timeout.value_or(options.timeout), options.timeout);
        asio::co_spawn(
            io,
            [&, i, timeout]() -> asio::awaitable<void> {
                results[i] = co_await (*checker)->run(targets[i], timeout);
                if (--pending == 0) backstop.cancel();
            },
            asio::detached);
    }
    io.run();

    std::vector<ProbeLine> lines;
    lines.reserve(targets.size());
    bool healthy = true;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        ProbeLine line{targets[i].name, results[i] && results[i]->ok(), {}};
        if (!results[i]) line.reason = fmt::format("timeout: no answer within {}", format_duration(options.timeout));
        else if (!line.pass) line.reason = check::describe_failure(*results[i]);
        healthy = healthy && line.pass;
        lines.push_back(std::move(line));
        if (results[i]) {
            for (const check::CheckResult::Part& part : results[i]->parts) {
                lines.push_back(ProbeLine{targets[i].name + " " + part.name, part.ok, part.reason});
            }
        }
    }
    // One write(2), no stdio buffer: the output is small and complete here.
    std::string output = format_probe_output(lines);
    for (std::size_t done = 0; done < output.size();) {
        ssize_t n = ::write(STDOUT_FILENO, output.data() + done, output.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // stdout closed: the exit code still tells
        done += static_cast<std::size_t>(n);
    }
    // End without unwinding: attempts cut by the backstop may still hold
    // sockets, which the kernel closes; nothing else is left behind.
    std::_Exit(healthy ? k_exit_ok : k_exit_not_ready);
}

}  // namespace healthgate::probe
