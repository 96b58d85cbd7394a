// `healthgate wait`: parse, start one coroutine per target on a single
// io_context, stop at the first of: every target ready, the deadline, a
// signal. Then exit, or exec the command.
#include "gate/wait_command.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <random>
#include <unistd.h>

#include "check/check.hpp"
#include "check/describe.hpp"
#include "common/error_line.hpp"
#include "common/exit_codes.hpp"
#include "common/log.hpp"
#include "common/termination_message.hpp"
#include "gate/diagnosis.hpp"
#include "gate/wait_config.hpp"

namespace healthgate::gate {
namespace {

namespace asio = boost::asio;

enum class Outcome { running, ready, timed_out, signalled };

struct WaitRun {
    const WaitConfig& config;
    asio::io_context& io;
    check::Checker& checker;
    std::vector<TargetStatus> targets;
    Clock::time_point start = Clock::now();
    Clock::time_point deadline = Clock::time_point::max();
    std::size_t ready_count = 0;
    Outcome outcome = Outcome::running;
    int signal_number = 0;
    std::minstd_rand random{std::random_device{}()};

    double random01() { return std::uniform_real_distribution<double>(0.0, 1.0)(random); }

    void finish(Outcome result) {
        if (outcome != Outcome::running) return;
        outcome = result;
        io.stop();
    }

    // The attempt never outlives the overall deadline.
    Duration attempt_timeout(const TargetStatus& status) const {
        Duration limit = status.target.timeout.value_or(config.attempt_timeout);
        if (deadline != Clock::time_point::max()) {
            auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now());
            limit = std::max(Duration{1}, std::min(limit, left));
        }
        return limit;
    }

    void report(const TargetStatus& status, Change change, std::string_view detail) {
        std::string elapsed = format_duration(std::chrono::duration_cast<Duration>(Clock::now() - start));
        std::string attempts = std::to_string(status.attempts);
        switch (change) {
            case Change::none:
                log::debug("attempt failed", {{"target", status.target.name}, {"reason", status.last_reason},
                                              {"attempt", attempts}});
                break;
            case Change::failing:
            case Change::reason:
                log::info(change == Change::failing ? "target not ready" : "target not ready, new reason",
                          {{"target", status.target.name}, {"error", check::failure_name(status.last_failure)},
                           {"reason", check::describe_failure({status.last_failure, status.last_reason})},
                           {"elapsed", elapsed}});
                break;
            case Change::ready:
                if (detail.empty()) {
                    log::info("target ready", {{"target", status.target.name}, {"elapsed", elapsed},
                                               {"attempts", attempts}});
                } else {  // what the server said of itself: "RabbitMQ 3.10.8", "accepts connections (...)"
                    log::info("target ready", {{"target", status.target.name}, {"elapsed", elapsed},
                                               {"attempts", attempts}, {"server", detail}});
                }
                break;
        }
    }

    asio::awaitable<void> watch(std::size_t index) {
        asio::steady_timer timer(io);
        for (int attempt = 0;; ++attempt) {
            TargetStatus& status = targets[index];
            check::CheckResult result = co_await checker.run(status.target, attempt_timeout(status));
            if (outcome != Outcome::running) co_return;
            Change change = record_attempt(status, result, Clock::now());
            report(status, change, result.detail);
            if (change == Change::ready) {
                if (++ready_count == targets.size()) finish(Outcome::ready);
                co_return;
            }
            timer.expires_after(backoff_delay(config.backoff, attempt, random01()));
            co_await timer.async_wait(asio::use_awaitable);
        }
    }

    asio::awaitable<void> summarize() {
        asio::steady_timer timer(io);
        while (outcome == Outcome::running) {
            timer.expires_after(config.summary_interval);
            co_await timer.async_wait(asio::use_awaitable);
            log::info("still waiting", {{"pending", pending_summary(targets)},
                                        {"elapsed", format_duration(std::chrono::duration_cast<Duration>(
                                                        Clock::now() - start))}});
        }
    }
};

std::string signal_name(int number) {
    const char* abbrev = sigabbrev_np(number);
    return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", number);
}

// Replaces this process with the command: argv passed untouched, PATH search,
// no shell, no expansion. Returns only on failure, with the shell's codes.
int exec_command(const std::vector<std::string>& command) {
    std::vector<char*> argv;
    for (const std::string& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    int error = errno;
    log::error(fmt::format("exec {}: {}", command[0], std::strerror(error)));
    return error == ENOENT ? k_exit_not_found : k_exit_not_executable;
}

}  // namespace

int wait_main(const std::vector<std::string>& args) {
    auto loaded = load_wait_config(args);
    if (!loaded) {
        return usage_error(loaded.error(), args);
    }
    const WaitConfig& config = *loaded;
    if (config.help) {
        std::fputs(wait_help().c_str(), stdout);
        return k_exit_ok;
    }
    log::setup(config.log_format, config.log_level);
    const std::optional<std::string> termination_log = resolve_termination_log(config.termination_log);

    Outcome outcome;
    int signal_number = 0;
    {
        asio::io_context io(1);
        auto checker = check::Checker::create(io, check::CheckerOptions{config.resolv_conf});
        if (!checker) {
            return usage_error("wait: " + checker.error(), args);
        }
        WaitRun run{config, io, **checker, {}};
        for (const Target& target : config.targets) run.targets.push_back(TargetStatus{target});
        if (config.timeout.count() > 0) run.deadline = run.start + config.timeout;

        // As PID 1 no signal has a default action: without these handlers
        // SIGTERM would be ignored until the kubelet's SIGKILL.
        asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
        signals.add(SIGQUIT);
        signals.async_wait([&](const boost::system::error_code& error, int number) {
            if (error) return;
            run.signal_number = number;
            run.finish(Outcome::signalled);
        });
        asio::steady_timer deadline_timer(io);
        if (config.timeout.count() > 0) {
            deadline_timer.expires_at(run.deadline);
            deadline_timer.async_wait([&](const boost::system::error_code& error) {
                if (!error) run.finish(Outcome::timed_out);
            });
        }
        log::info("waiting", {{"targets", std::to_string(config.targets.size())},
                              {"timeout", config.timeout.count() ? format_duration(config.timeout) : "none"}});
        for (std::size_t i = 0; i < run.targets.size(); ++i) {
            asio::co_spawn(io, run.watch(i), asio::detached);
        }
        if (config.summary_interval.count() > 0) asio::co_spawn(io, run.summarize(), asio::detached);
        io.run();

        outcome = run.outcome;
        signal_number = run.signal_number;
        Duration elapsed = std::chrono::duration_cast<Duration>(Clock::now() - run.start);
        if (outcome == Outcome::ready) {
            log::info("all targets ready", {{"targets", std::to_string(run.targets.size())},
                                            {"elapsed", format_duration(elapsed)}});
        } else {
            DiagnosisInput input{outcome == Outcome::timed_out
                                     ? fmt::format("not ready after {}", format_duration(elapsed))
                                     : fmt::format("stopped by {} after {}", signal_name(signal_number),
                                                   format_duration(elapsed)),
                                 &run.targets, run.start, Clock::now(), (*checker)->resolver_summary()};
            std::vector<std::string> lines = diagnosis_lines(input);
            for (const std::string& line : lines) log::error(line);
            if (termination_log) {
                if (auto problem = write_termination_message(*termination_log,
                                                             compose_diagnosis(input, k_termination_message_max))) {
                    log::warn("cannot write the termination message", {{"error", *problem}});
                }
            }
        }
    }  // the io_context, sockets and resolver are gone before exec

    if (outcome == Outcome::signalled) return k_exit_signal_base + signal_number;
    if (outcome != Outcome::ready) return k_exit_not_ready;
    if (!config.command.empty()) return exec_command(config.command);
    return k_exit_ok;
}

}  // namespace healthgate::gate
