// `healthgate run`: a PID 1 that records why the app died. run_main reads
// like tini's main: parse, block signals, become a subreaper, spawn, loop,
// then write the final record and exit with the app's status.
#include "sidecar/run_command.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <memory>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/exit_codes.hpp"
#include "common/log.hpp"
#include "common/termination_message.hpp"
#include "sidecar/cgroup_memory.hpp"
#include "sidecar/flight_record.hpp"
#include "sidecar/footprint.hpp"
#include "sidecar/history.hpp"
#include "sidecar/memory_watch.hpp"
#include "sidecar/output_pump.hpp"
#include "sidecar/run_options.hpp"
#include "sidecar/signal_names.hpp"
#include "sidecar/spawn.hpp"
#include "sidecar/verdict.hpp"

namespace healthgate::sidecar {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int k_app_pipe_size = 1 << 20;  // room to batch (output_pump.cpp): fewer wake-ups
// --signal-group: after the app exits, the rest of its group gets SIGTERM and
// this long to end before SIGKILL (README, --help).
constexpr auto k_group_grace = std::chrono::seconds(2);

// healthgate's own log, set up on first use: a run with nothing to say never
// initialises spdlog, which keeps its code and allocations out of our RSS.
struct LogSettings {
    log::Format format = log::Format::text;
    log::Level level = log::Level::warn;
    bool ready = false;
} g_log;

void say(log::Level level, std::string_view message, std::initializer_list<log::Field> fields = {}) {
    if (g_log.level == log::Level::off || level < g_log.level) return;
    if (!g_log.ready) {
        log::setup(g_log.format, g_log.level);
        g_log.ready = true;
    }
    log::write(level, message, fields);
}

Duration since(Clock::time_point start) {
    return std::chrono::duration_cast<Duration>(Clock::now() - start);
}

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool is_stop_signal(int signal) {
    return signal == SIGTERM || signal == SIGINT || signal == SIGQUIT || signal == SIGHUP;
}

// Job control from a terminal: after passing these on we stop too, as
// dumb-init does, so the shell that sent them sees its job stopped.
bool is_suspend_signal(int signal) { return signal == SIGTSTP || signal == SIGTTIN || signal == SIGTTOU; }

// Relative paths of our own files, made absolute: we leave the working
// directory (see Session::start_app).
void make_absolute(std::optional<std::string>& path) {
    if (!path || path->empty() || path->front() == '/' || *path == "none") return;
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd)) *path = std::string(cwd) + "/" + *path;
}

// A closed fd 0/1/2 would be reused by the next open() and the app would
// write its output into one of our files.
void ensure_standard_fds() {
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) ::open("/dev/null", O_RDWR);
    }
}

struct SignalSetup {
    sigset_t original;  // the mask the app gets back
    int fd = -1;        // signalfd of every blocked signal
};

// Blocks every signal and reads them all from a signalfd. Blocked signals
// stay queued even for PID 1, which would drop signals it has no handler for.
// The synchronous ones are blocked too: one sent with kill() (SIGSEGV,
// SIGABRT...) is queued and forwarded like any other, while a real fault in
// healthgate still kills it (the kernel unblocks a forced fault signal). No
// disposition is changed, so what our parent ignored stays ignored for the app.
Expected<SignalSetup> block_signals() {
    SignalSetup setup;
    sigset_t blocked;
    ::sigfillset(&blocked);
    if (::sigprocmask(SIG_SETMASK, &blocked, &setup.original) != 0) {
        return make_error(fmt::format("sigprocmask: {}", std::strerror(errno)));
    }
    setup.fd = ::signalfd(-1, &blocked, SFD_CLOEXEC | SFD_NONBLOCK);
    if (setup.fd < 0) return make_error(fmt::format("signalfd: {}", std::strerror(errno)));
    return setup;
}

// One run of the app: what is known about it and where records go.
class Session {
public:
    explicit Session(const RunOptions& options)
        : options_(options),
          termination_log_(resolve_termination_log(options.termination_log)),
          monitor_(MemoryMonitor::open(options.cgroup)),
          tail_(options.tail_bytes),
          oom_(monitor_.sample(0).oom_kills) {
        dev_null_ = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (options_.history_dir) {
            previous_runs_ = load_history(*options_.history_dir);
            current_run_.start_ms = current_run_.end_ms = wall_ms();
            current_run_.outcome = std::string(k_outcome_running);
            history_ = summarize_history(previous_runs_, current_run_.start_ms);
        }
    }

    // Pipes for the app's output, then fork and exec. False: exec failed
    // (already recorded in app_exit_).
    // A stream on a terminal is passed to the app as it is: an interactive
    // shell gets its prompt and job control, and the app's own line
    // buffering applies; that output is not quoted (the record says so).
    bool start_app(const sigset_t& child_mask) {
        int out[2] = {-1, -1}, err[2] = {-1, -1};
        bool out_tty = ::isatty(STDOUT_FILENO) == 1, err_tty = ::isatty(STDERR_FILENO) == 1;
        bool merged = !out_tty && !err_tty && same_open_file(STDOUT_FILENO, STDERR_FILENO);
        on_terminal_ = out_tty || err_tty;
        bool piped = (out_tty || ::pipe2(out, O_CLOEXEC) == 0) && (err_tty || merged || ::pipe2(err, O_CLOEXEC) == 0);
        if (!piped) {
            say(log::Level::warn, "pipe2 failed: the app's output is passed through unseen", {{"error", std::strerror(errno)}});
            for (int fd : {out[0], out[1], err[0], err[1]}) {
                if (fd >= 0) ::close(fd);
            }
            out[0] = out[1] = err[0] = err[1] = -1;
        }
        for (int fd : {out[0], err[0]}) {
            if (fd >= 0) ::fcntl(fd, F_SETPIPE_SZ, k_app_pipe_size);  // best effort: pipe-max-size may be lower
        }
        const char* path_env = std::getenv("PATH");
        ResolvedCommand resolved = resolve_command(options_.command.front(), path_env ? path_env : "");
        SpawnRequest request;
        request.path = resolved.path;
        request.argv = options_.command;
        request.child_mask = child_mask;
        request.stdout_fd = out[1];
        request.stderr_fd = merged ? out[1] : err[1];
        // The app keeps the working directory; we hold no reference to it (as
        // dumb-init), so it can be unmounted or removed under us. We leave it
        // before the fork, the child returns to it: the app never sees us there.
        int cwd = ::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cwd >= 0 && ::chdir("/") == 0) request.cwd_fd = cwd;
        started_ = Clock::now();
        int exec_error = resolved.error;
        std::string spawn_problem;  // fork or pipe failed: the command was never tried
        if (exec_error == 0) {
            auto spawned = spawn_app(request);
            if (!spawned) {
                exec_error = EAGAIN;
                spawn_problem = spawned.error();
            } else {
                app_ = spawned->pid;
                exec_error = spawned->exec_error;
            }
        }
        for (int fd : {out[1], err[1]}) {
            if (fd >= 0) ::close(fd);
        }
        if (exec_error != 0) {
            for (int fd : {out[0], err[0]}) {
                if (fd >= 0) ::close(fd);
            }
            if (app_ > 0) ::waitpid(app_, nullptr, 0);
            app_exit_.kind = AppExit::Kind::exec_failed;
            app_exit_.code = exec_failure_exit_code(exec_error);
            std::optional<std::string> head;
            if (cwd >= 0 && ::fchdir(cwd) != 0) cwd = -1;  // a relative command is read from there
            if (!resolved.path.empty() && !(resolved.searched && exec_error == ENOENT)) {
                head = read_file_head(resolved.path);
            }
            app_exit_.exec_error = spawn_problem.empty()
                                       ? describe_exec_error(options_.command.front(), resolved, exec_error, head)
                                       : fmt::format("cannot start {}: {}", options_.command.front(), spawn_problem);
            app_ = -1;
            if (cwd >= 0) ::close(cwd);
            return false;
        }
        if (cwd >= 0) ::close(cwd);
        app_group_ = app_;
        if (out[0] >= 0) out_ = std::make_unique<OutputPump>(OutputStream::out, out[0], STDOUT_FILENO, tail_, dev_null_);
        if (err[0] >= 0) err_ = std::make_unique<OutputPump>(OutputStream::err, err[0], STDERR_FILENO, tail_, dev_null_);
        return true;
    }

    // Until the app has been reaped: forward signals, reap zombies, pass the
    // output through, sample memory and keep the flight record current.
    void loop(int signal_fd) {
        last_sample_ = monitor_.sample(app_);
        running_peak_ = last_sample_.peak;
        watch_.observe(last_sample_, since(started_));
        write_running_record();
        auto next_sample = Clock::now() + watch_.interval(options_.sample_interval, last_sample_);
        while (app_ > 0) {
            auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_sample - Clock::now()).count();
            bool memory_events = poll_once(signal_fd, static_cast<int>(std::max<long long>(wait, 0)));
            if (Clock::now() >= next_sample || memory_events) {
                if (app_ > 0) sample_while_running();
                next_sample = Clock::now() + watch_.interval(options_.sample_interval, last_sample_);
            }
        }
        if (options_.signal_group) end_group(signal_fd);
        for (OutputPump* pump : {out_.get(), err_.get()}) {
            if (pump) pump->drain();
        }
    }

    // One wait for a signal or output (at most `wait_ms`), and what it brought.
    // One poll of the signals, memory.events and the app's output; true when
    // memory.events changed (the caller then samples at once).
    bool poll_once(int signal_fd, int wait_ms) {
        pollfd fds[4];
        OutputPump* owners[4] = {nullptr, nullptr, nullptr, nullptr};
        nfds_t count = 0;
        fds[count++] = {signal_fd, POLLIN, 0};
        fds[count++] = {watch_.fd(), POLLIN, 0};  // memory.events changed (a negative fd is ignored)
        for (OutputPump* pump : {out_.get(), err_.get()}) {
            if (!pump || pump->state() == OutputPump::State::eof) continue;
            bool blocked = pump->state() == OutputPump::State::output_blocked;
            owners[count] = pump;
            fds[count++] = {blocked ? pump->sink() : pump->source(), static_cast<short>(blocked ? POLLOUT : POLLIN), 0};
        }
        // Rounded up by the caller: a wait rounded down to 0 ms would spin until the deadline.
        int ready = ::poll(fds, count, wait_ms);
        if (ready < 0 && errno != EINTR) {
            say(log::Level::error, "poll failed", {{"error", std::strerror(errno)}});
            ::usleep(100'000);
        }
        if (ready > 0 && fds[0].revents) handle_signals(signal_fd);
        bool memory_events = ready > 0 && fds[1].revents;
        if (memory_events) watch_.drain();
        for (nfds_t i = 2; ready > 0 && i < count; ++i) {
            if (fds[i].revents) pump_output(*owners[i]);
        }
        return memory_events;
    }

    // --signal-group, the app has exited: what is left of its process group
    // gets SIGTERM, then SIGKILL after k_group_grace (reaped as they go; the
    // output keeps flowing meanwhile).
    void end_group(int signal_fd) {
        if (app_group_ <= 0 || ::kill(-app_group_, 0) != 0) return;
        say(log::Level::info, "the app has exited: SIGTERM to the rest of its process group");
        ::kill(-app_group_, SIGTERM);
        auto deadline = Clock::now() + k_group_grace;
        while (Clock::now() < deadline) {
            reap();
            if (::kill(-app_group_, 0) != 0) return;
            poll_once(signal_fd, 20);
        }
        say(log::Level::info, "the app's process group outlived the grace: SIGKILL");
        ::kill(-app_group_, SIGKILL);
        for (int i = 0; i < 50 && ::kill(-app_group_, 0) == 0; ++i) {
            ::usleep(10'000);
            reap();
        }
    }

    // The final record; returns run's exit code.
    int finish() {
        RunFacts facts = current_facts();
        if (app_exit_.kind != AppExit::Kind::exec_failed) {
            MemorySample last = monitor_.sample(0);
            facts.memory = memory_facts(last);
            facts.oom.known = oom_.known();
            facts.oom.kills = oom_.kills(last.oom_kills);
            facts.oom.child_kills = oom_.child_kills();
            if (monitor_.source() == MemorySource::rusage) {
                rusage usage {};
                if (::getrusage(RUSAGE_CHILDREN, &usage) == 0 && usage.ru_maxrss > 0) {
                    std::uint64_t peak = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
                    facts.memory.peak = std::max(peak, facts.memory.peak.value_or(0));
                }
            }
        }
        std::string message = compose_message(facts, options_.format, options_.max_bytes);
        write_record(message);
        if (options_.history_dir) {
            current_run_.end_ms = wall_ms();
            current_run_.peak = facts.memory.peak;
            current_run_.limit = facts.memory.limit;
            current_run_.outcome = outcome_label(facts);
            save_run();
        }
        if (g_log.level <= log::Level::debug) {
            rusage self {};
            ::getrusage(RUSAGE_SELF, &self);
            auto ms = [](const timeval& t) { return std::to_string(t.tv_sec * 1000 + t.tv_usec / 1000) + "ms"; };
            say(log::Level::debug, "healthgate's own usage",
                {{"user", ms(self.ru_utime)}, {"system", ms(self.ru_stime)},
                 {"max_rss", std::to_string(self.ru_maxrss) + "KiB"}});
        }
        Verdict verdict = classify(facts);
        int code = exit_code(facts.exit);
        std::string code_text = std::to_string(code);
        std::string line = verdict_line(facts);
        // The app's streams stay the app's: the verdict is in the record, and
        // in our log only at --log-level info.
        if (verdict == Verdict::exec_failed) {
            say(log::Level::error, "cannot start the app", {{"error", facts.exit.exec_error}, {"exit_code", code_text}});
        } else {
            say(log::Level::info, "app exited", {{"verdict", line}, {"exit_code", code_text}});
        }
        return code;
    }

private:
    void pump_output(OutputPump& pump) {
        pump.pump();
        if (pump.output_lost() && !warned_output_lost_) {
            warned_output_lost_ = true;
            say(log::Level::info, "our output is closed: so is the app's pipe, its writes now fail as they would without us");
        }
    }

    void handle_signals(int signal_fd) {
        signalfd_siginfo info {};
        while (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
            int signal = static_cast<int>(info.ssi_signo);
            if (signal == SIGCHLD) {
                reap();
                continue;
            }
            // A SIGPIPE from our own write to a closed output is ours, not the app's.
            if (signal == SIGPIPE && static_cast<pid_t>(info.ssi_pid) == ::getpid()) continue;
            forward(signal);
            if (is_suspend_signal(signal) && !suspending_) suspend_self(signal_fd);
        }
    }

    // After passing on SIGTSTP/SIGTTIN/SIGTTOU. The app's output goes through
    // us, so first it is relayed until the app has stopped (or, if it
    // handles the signal, for a moment): what it printed in reply must not
    // wait for our SIGCONT. PID 1 cannot stop itself, nor should it.
    void suspend_self(int signal_fd) {
        if (::getpid() == 1) return;
        suspending_ = true;
        auto deadline = Clock::now() + std::chrono::milliseconds(100);
        while (app_ > 0 && Clock::now() < deadline) {
            siginfo_t info {};
            if (::waitid(P_PID, static_cast<id_t>(app_), &info, WSTOPPED | WNOHANG | WNOWAIT) == 0 && info.si_pid == app_) break;
            poll_once(signal_fd, 10);
        }
        suspending_ = false;
        ::kill(::getpid(), SIGSTOP);
    }

    void forward(int signal) {
        if (app_ <= 0) return;
        pid_t target = options_.signal_group ? -app_group_ : app_;
        if (::kill(target, signal) != 0 && errno != ESRCH) {
            say(log::Level::warn, "cannot forward signal", {{"signal", signal_name(signal)}, {"error", std::strerror(errno)}});
        }
        if (is_stop_signal(signal) && !stop_) {
            stop_ = StopSignal{signal, since(started_)};
            say(log::Level::info, "forwarded stop signal to the app", {{"signal", signal_name(signal)}});
            write_running_record();
        }
    }

    // Every zombie, the app's orphaned descendants included (we are their
    // subreaper or PID 1); the app's own status ends the loop.
    void reap() {
        while (true) {
            int status = 0;
            pid_t pid = ::waitpid(-1, &status, WNOHANG);
            if (pid <= 0) {
                if (pid < 0 && errno == EINTR) continue;
                return;
            }
            if (pid != app_) continue;
            runtime_ = since(started_);
            if (WIFEXITED(status)) {
                app_exit_.kind = AppExit::Kind::exited;
                app_exit_.code = WEXITSTATUS(status);
            } else if (WIFSIGNALED(status)) {
                app_exit_.kind = AppExit::Kind::signaled;
                app_exit_.signal = WTERMSIG(status);
                app_exit_.core_dumped = WCOREDUMP(status);
            }
            app_ = -1;
        }
    }

    void sample_while_running() {
        MemorySample sample = monitor_.sample(app_);
        last_sample_ = sample;
        if (sample.peak) running_peak_ = std::max(running_peak_.value_or(0), *sample.peak);
        std::uint64_t child_kills = oom_.observe(sample.oom_kills, since(started_));
        bool events_rose = watch_.observe(sample, since(started_));
        if (child_kills > 0) {
            say(log::Level::info, "a child process was OOM-killed; the app lives on",
                {{"kills", std::to_string(child_kills)}, {"memory", memory_phrase(memory_facts(sample))}});
        }
        bool due = options_.record_interval.count() > 0 && since(last_record_) >= options_.record_interval;
        if (due || child_kills > 0 || events_rose || peak_rose_notably(recorded_peak_, running_peak_, sample.limit)) {
            write_running_record();
        }
    }

    MemoryFacts memory_facts(const MemorySample& sample) const {
        MemoryFacts memory;
        memory.peak = sample.peak;
        if (running_peak_ && (!memory.peak || *running_peak_ > *memory.peak)) memory.peak = running_peak_;
        memory.limit = sample.limit;
        memory.limit_known = sample.limit_known;
        memory.source = monitor_.describe();
        watch_.fill(memory, sample);
        return memory;
    }

    RunFacts current_facts() const {
        RunFacts facts;
        facts.exit = app_exit_;
        facts.runtime = app_exit_.kind == AppExit::Kind::running ? since(started_) : runtime_;
        facts.memory = memory_facts(last_sample_);
        facts.oom.known = oom_.known();
        facts.oom.kills = oom_.kills(last_sample_.oom_kills);
        facts.oom.child_kills = oom_.child_kills();
        facts.stop = stop_;
        facts.output = tail_.lines();
        facts.output_on_terminal = on_terminal_;
        facts.history = history_;
        return facts;
    }

    // The "still running" record: what the kubelet finds if the kernel
    // kills the whole container, healthgate included.
    void write_running_record() {
        last_record_ = Clock::now();
        recorded_peak_ = running_peak_;
        if (termination_log_ || options_.history_dir) {
            RunFacts facts = current_facts();
            if (termination_log_) write_record(compose_message(facts, options_.format, options_.max_bytes));
            if (options_.history_dir) {
                current_run_.end_ms = wall_ms();
                current_run_.peak = facts.memory.peak;
                current_run_.limit = facts.memory.limit;
                save_run();
            }
        }
        // Start-up and composing touched code the wait loop does not need (see footprint.hpp).
        drop_clean_executable_pages();
    }

    void write_record(const std::string& message) {
        if (!termination_log_) return;
        if (auto problem = write_termination_message(*termination_log_, message)) {
            if (!warned_termination_log_) {
                warned_termination_log_ = true;
                say(log::Level::warn, "cannot write the termination message", {{"error", *problem}});
            }
        }
    }

    void save_run() {
        std::vector<RunRecord> records = previous_runs_;
        records.push_back(current_run_);
        if (auto problem = save_history(*options_.history_dir, records)) {
            if (!warned_history_) {
                warned_history_ = true;
                say(log::Level::warn, "cannot save the run history", {{"error", *problem}});
            }
        }
    }

    const RunOptions& options_;
    std::optional<std::string> termination_log_;
    MemoryMonitor monitor_;
    MemoryWatch watch_{monitor_};
    LastLines tail_;
    OomTracker oom_;
    int dev_null_ = -1;
    std::unique_ptr<OutputPump> out_, err_;

    pid_t app_ = -1;
    pid_t app_group_ = -1;     // the app's process group, also after the app is gone
    bool on_terminal_ = false;  // the app writes to our terminal itself
    bool suspending_ = false;   // in suspend_self: a second suspend signal is only passed on
    AppExit app_exit_;
    Clock::time_point started_ = Clock::now();
    Duration runtime_{0};
    std::optional<StopSignal> stop_;

    MemorySample last_sample_;
    std::optional<std::uint64_t> running_peak_;
    std::optional<std::uint64_t> recorded_peak_;
    Clock::time_point last_record_ = Clock::now();

    std::vector<RunRecord> previous_runs_;
    RunRecord current_run_;
    HistorySummary history_;

    bool warned_output_lost_ = false;
    bool warned_termination_log_ = false;
    bool warned_history_ = false;
};

}  // namespace

int run_main(const std::vector<std::string>& args) {
    auto parsed = parse_run_options(args);
    if (!parsed) {
        std::fprintf(stderr, "healthgate %s\n", parsed.error().c_str());
        return k_exit_usage;
    }
    RunOptions& options = *parsed;
    if (options.help) {
        std::fputs(k_run_help, stdout);
        return k_exit_ok;
    }
    g_log.format = options.log_format;
    g_log.level = options.log_level;

    ensure_standard_fds();
    auto signals = block_signals();
    if (!signals) {
        say(log::Level::error, "cannot set up signal handling", {{"error", signals.error()}});
        return k_exit_not_executable;
    }
    if (::getpid() != 1 && ::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        say(log::Level::warn, "cannot become a child subreaper: orphaned grandchildren go to init",
            {{"error", std::strerror(errno)}});
    }

    for (auto* path : {&options.termination_log, &options.history_dir, &options.cgroup}) make_absolute(*path);
    Session session(options);
    if (session.start_app(signals->original)) session.loop(signals->fd);
    return session.finish();
}

}  // namespace healthgate::sidecar
