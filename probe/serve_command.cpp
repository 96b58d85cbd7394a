// `healthgate serve` and `healthgate config check`: read like a script —
// load and validate the config, set up logging, the checker, the background
// checks and the server, then run until SIGTERM has drained readiness.
#include "probe/serve_command.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <sys/resource.h>

#include "check/check.hpp"
#include "common/error_line.hpp"
#include "common/exit_codes.hpp"
#include "common/log.hpp"
#include "probe/health_checker.hpp"
#include "probe/history_metrics.hpp"
#include "probe/http_server.hpp"
#include "probe/serve_config.hpp"
#include "probe/status_socket.hpp"

namespace healthgate::probe {

namespace asio = boost::asio;

namespace {

std::string describe_listen(const asio::ip::tcp::endpoint& endpoint) {
    if (endpoint.address().is_v6()) return fmt::format("[{}]:{}", endpoint.address().to_string(), endpoint.port());
    return fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
}

std::string summary(const ServeConfig& config) {
    int counts[3] = {0, 0, 0};
    for (const CheckGroup& group : config.groups) {
        for (const CheckConfig& check : group.checks) {
            for (ProbeKind kind : k_probe_kinds) counts[static_cast<int>(kind)] += check.in(kind) ? 1 : 0;
        }
    }
    std::string containers;
    for (std::size_t i = 1; i < config.groups.size(); ++i) containers += (containers.empty() ? "" : ", ") + config.groups[i].name;
    return fmt::format("{} checks (startup {}, liveness {}, readiness {}){}", config.check_count(), counts[0], counts[1],
                       counts[2], containers.empty() ? "" : "; containers: " + containers);
}

}  // namespace

int serve_main(const std::vector<std::string>& args) {
    auto config = load_serve_config(args, LocalIdentity::from_environment());
    if (!config) {
        return usage_error(config.error(), args);
    }
    if (config->help) {
        std::fputs(k_serve_help, stdout);
        return k_exit_ok;
    }
    log::setup(config->log_format, config->log_level);

    // One thread, no locking: nothing else calls into asio (signals arrive through a pipe).
    asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
    auto checker = check::Checker::create(io, check::CheckerOptions{config->resolv_conf});
    if (!checker) {
        return usage_error("serve: " + checker.error(), args);
    }
    HealthChecker checks(io, **checker, *config);
    bool draining = false;
    ServerLimits limits;
    limits.read_timeout = limits.write_timeout = config->request_timeout;
    if (rlimit nofile{}; ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
        limits.max_sessions = session_cap(limits.max_sessions, nofile.rlim_cur);
    }
    // The pod's run histories, read at most every 5 s (a probe request may ask).
    std::string history_metrics;
    std::chrono::steady_clock::time_point history_read{};
    auto snapshot = [&] {
        Snapshot s = checks.snapshot(draining);
        if (config->histories.empty()) return s;
        if (auto now = std::chrono::steady_clock::now(); now - history_read >= std::chrono::seconds(5)) {
            history_metrics = format_history_metrics(load_histories(config->histories));
            history_read = now;
        }
        s.extra_metrics = &history_metrics;
        return s;
    };
    HttpServer server(io, snapshot, limits);
    auto endpoint = server.listen(config->listen);
    if (!endpoint) {
        return usage_error("serve: " + endpoint.error(), args);
    }
    StatusSocket status_socket(io, snapshot);
    if (auto problem = config->socket.empty() ? std::nullopt : status_socket.listen(config->socket)) {
        return usage_error("serve: " + *problem, args);
    }

    // SIGTERM: readiness 503 at once, liveness unchanged, exit 0 after the
    // drain period, so the pod leaves the Service endpoints before the app
    // stops. A second signal ends the drain early.
    asio::signal_set signals(io, SIGTERM, SIGINT);
    asio::steady_timer drain_timer(io);
    auto finish = [&] {
        server.stop();
        status_socket.stop();
        checks.stop();
        io.stop();
    };
    std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec,
                                                                                int signal) {
        if (ec) return;
        if (draining) {
            log::info("second signal: exiting now", {{"signal", std::to_string(signal)}});
            finish();
            return;
        }
        draining = true;
        log::info("draining: readiness now fails, liveness unchanged",
                  {{"signal", std::to_string(signal)}, {"drain", format_duration(config->drain)}});
        drain_timer.expires_after(config->drain);
        drain_timer.async_wait([&](const boost::system::error_code& wait_error) {
            if (wait_error) return;
            log::info("drained: exiting");
            finish();
        });
        signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);

    checks.start();
    server.start();
    if (!config->socket.empty()) status_socket.start();
    log::info("serving", {{"listen", describe_listen(*endpoint)}, {"checks", summary(*config)},
                          {"drain", format_duration(config->drain)}});
    io.run();
    // The process ends here without unwinding the coroutines still suspended
    // in check attempts (they end by their own timeout otherwise): the kernel
    // closes their sockets, and every log line is already flushed.
    std::fflush(nullptr);
    std::_Exit(k_exit_ok);
}

int config_main(const std::vector<std::string>& args) {
    if (std::find(args.begin(), args.end(), "--help") != args.end() || std::find(args.begin(), args.end(), "-h") != args.end()) {
        std::fputs(k_config_help, stdout);
        return k_exit_ok;
    }
    if (args.size() != 2 || args[0] != "check") {
        std::fputs("healthgate config: usage: healthgate config check FILE (see healthgate config --help)\n", stderr);
        return k_exit_usage;
    }
    auto config = load_serve_config_file(args[1], LocalIdentity::from_environment());
    if (!config) {
        // file:line first, as compilers do (no "healthgate" prefix).
        std::fprintf(stderr, "%s\n", error_line(config.error(), command_secrets(args, {args[1]})).c_str());
        return k_exit_usage;
    }
    std::printf("%s: ok: %s\n", args[1].c_str(), summary(*config).c_str());
    return k_exit_ok;
}

}  // namespace healthgate::probe
