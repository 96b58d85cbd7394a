#include <catch2/catch.hpp>

#include <csignal>

#include "common/text.hpp"
#include "sidecar/verdict.hpp"

using namespace healthgate::sidecar;
using healthgate::Duration;

namespace {

constexpr std::uint64_t k_mi = 1024 * 1024;

RunFacts base_facts() {
    RunFacts facts;
    facts.runtime = Duration{43'000};
    facts.memory.source = "cgroup v2 /sys/fs/cgroup";
    facts.memory.limit_known = true;
    facts.memory.limit = 512 * k_mi;
    facts.memory.peak = 100 * k_mi;
    facts.oom.known = true;
    return facts;
}

RunFacts exited(int code) {
    RunFacts facts = base_facts();
    facts.exit.kind = AppExit::Kind::exited;
    facts.exit.code = code;
    return facts;
}

RunFacts signaled(int signal, bool core = false) {
    RunFacts facts = base_facts();
    facts.exit.kind = AppExit::Kind::signaled;
    facts.exit.signal = signal;
    facts.exit.core_dumped = core;
    return facts;
}

std::vector<OutputLine> lines(std::initializer_list<const char*> texts) {
    std::vector<OutputLine> out;
    for (const char* t : texts) out.push_back(OutputLine{OutputStream::err, t});
    return out;
}

std::string first_line(const std::string& message) { return message.substr(0, message.find('\n')); }

bool valid_utf8(const std::string& text) { return healthgate::utf8_sanitize(text) == text; }

}  // namespace

TEST_CASE("bytes in binary units, rounded down") {
    CHECK(format_bytes(0) == "0B");
    CHECK(format_bytes(1023) == "1023B");
    CHECK(format_bytes(1024) == "1Ki");
    CHECK(format_bytes(512 * k_mi) == "512Mi");
    CHECK(format_bytes(static_cast<std::uint64_t>(511.85 * k_mi)) == "511.8Mi");
    CHECK(format_bytes(512 * k_mi - 1) == "511.9Mi");  // never rounds up to the limit
    CHECK(format_bytes(3 * 1024 * k_mi / 2) == "1.5Gi");
}

TEST_CASE("exit codes: the app's, 128+N, 126/127") {
    CHECK(exit_code(exited(0).exit) == 0);
    CHECK(exit_code(exited(1).exit) == 1);
    CHECK(exit_code(exited(2).exit) == 2);
    CHECK(exit_code(signaled(SIGKILL).exit) == 137);
    CHECK(exit_code(signaled(SIGTERM).exit) == 143);
    CHECK(exit_code(signaled(SIGSEGV).exit) == 139);
    AppExit failed{AppExit::Kind::exec_failed, 127, 0, false, "exec x: no such file or directory"};
    CHECK(exit_code(failed) == 127);
}

TEST_CASE("verdict: OOMKilled with peak, limit and percentage") {
    RunFacts facts = signaled(SIGKILL);
    facts.memory.peak = static_cast<std::uint64_t>(511.85 * k_mi);
    facts.oom.kills = 1;
    CHECK(classify(facts) == Verdict::oom_killed);
    CHECK(verdict_line(facts) == "OOMKilled: peak 511.8Mi of 512Mi limit (99.9%) after 43.0s");
    CHECK(outcome_label(facts) == "OOMKilled");
    std::string message = compose_message(facts, MessageFormat::text, 4096);
    CHECK(message.find("signal: SIGKILL (exit code 137), no core dump") != std::string::npos);
    CHECK(message.find("OOM kills: 1 (the app)") != std::string::npos);
    CHECK(message.find("hint: the app reached its memory limit") != std::string::npos);
}

TEST_CASE("verdict: SIGKILL from elsewhere when the OOM counter did not move") {
    RunFacts facts = signaled(SIGKILL);
    CHECK(classify(facts) == Verdict::killed);
    CHECK(verdict_line(facts) ==
          "killed by SIGKILL after 43.0s, not an OOM kill: sent from elsewhere (liveness probe, grace period, node pressure)");
    facts.oom.known = false;
    CHECK(verdict_line(facts).find("no OOM-kill counter") != std::string::npos);
}

TEST_CASE("verdict: SIGKILL after a forwarded SIGTERM is the grace period") {
    RunFacts facts = signaled(SIGKILL);
    facts.stop = StopSignal{SIGTERM, Duration{13'000}};
    CHECK(verdict_line(facts) == "killed by SIGKILL after 43.0s, 30.0s after SIGTERM: the grace period ran out");
    CHECK(hint(facts).find("terminationGracePeriodSeconds") != std::string::npos);
}

TEST_CASE("verdict: a child OOM-killed while the app lived") {
    RunFacts facts = exited(1);
    facts.oom.kills = 1;
    facts.oom.child_kills = 1;
    facts.output = lines({"worker died"});
    CHECK(classify(facts) == Verdict::child_oom_killed);
    CHECK(verdict_line(facts) ==
          "exit 1 after 43.0s, a child process was OOM-killed at peak 100Mi of 512Mi limit (19.5%): last output: worker died");
    std::string message = compose_message(facts, MessageFormat::text, 4096);
    CHECK(message.find("OOM kills: 1 (1 child process while the app ran)") != std::string::npos);
    // An app SIGKILLed for another reason after a child's OOM kill is not OOMKilled itself.
    RunFacts killed = signaled(SIGKILL);
    killed.oom.kills = 1;
    killed.oom.child_kills = 1;
    CHECK(classify(killed) == Verdict::killed);
    killed.oom.kills = 2;
    CHECK(classify(killed) == Verdict::oom_killed);
}

TEST_CASE("verdict: exit 1 quotes the last output") {
    RunFacts facts = exited(1);
    facts.runtime = Duration{2100};
    facts.output = lines({"connecting", "FATAL: DATABASE_URL is not set"});
    CHECK(verdict_line(facts) == "exit 1 after 2.1s: last output: FATAL: DATABASE_URL is not set");
    CHECK(hint(facts) == "application error: the last output usually says why");
    CHECK(outcome_label(facts) == "exit 1");
}

TEST_CASE("verdict: exit 0, exit 2, exit 137 from a shell") {
    CHECK(classify(exited(0)) == Verdict::completed);
    CHECK(verdict_line(exited(0)) == "exit 0 after 43.0s");
    CHECK(hint(exited(0)).find("restartPolicy Always") != std::string::npos);
    CHECK(hint(exited(2)).find("Go panic") != std::string::npos);
    RunFacts shell = exited(137);
    CHECK(classify(shell) == Verdict::error);
    CHECK(compose_message(shell, MessageFormat::text, 4096).find("exit code: 137 (= 128+9") != std::string::npos);
    CHECK(hint(shell).find("SIGKILL") != std::string::npos);
}

TEST_CASE("verdict: other signals, core dumps, unhandled stop signals") {
    RunFacts segv = signaled(SIGSEGV, true);
    CHECK(classify(segv) == Verdict::signaled);
    CHECK(verdict_line(segv) == "killed by SIGSEGV (core dumped) after 43.0s");
    CHECK(compose_message(segv, MessageFormat::text, 4096).find("signal: SIGSEGV (exit code 139), core dumped") !=
          std::string::npos);
    CHECK(hint(segv).find("segmentation fault") != std::string::npos);
    CHECK(hint(signaled(SIGABRT)).find("abort") != std::string::npos);
    RunFacts term = signaled(SIGTERM);
    term.stop = StopSignal{SIGTERM, Duration{42'900}};
    CHECK(verdict_line(term) == "stopped by SIGTERM after 43.0s (forwarded at 42.9s, not handled by the app)");
    CHECK(outcome_label(term) == "SIGTERM");
}

TEST_CASE("verdict: exec failures") {
    RunFacts facts = base_facts();
    facts.exit = AppExit{AppExit::Kind::exec_failed, 127, 0, false, "exec /app/start.sh: no such file or directory"};
    CHECK(classify(facts) == Verdict::exec_failed);
    std::string message = compose_message(facts, MessageFormat::text, 4096);
    CHECK(first_line(message) == "cannot start: exec /app/start.sh: no such file or directory");
    CHECK(message.find("memory:") == std::string::npos);
    facts.exit.code = 126;
    CHECK(hint(facts).find("chmod +x") != std::string::npos);
}

TEST_CASE("verdict: the flight record while running and while stopping") {
    RunFacts facts = base_facts();
    facts.memory.peak = 311 * k_mi;
    CHECK(classify(facts) == Verdict::running);
    CHECK(verdict_line(facts) == "still running at 43.0s: peak 311Mi of 512Mi limit (60.7%)");
    std::string message = compose_message(facts, MessageFormat::text, 4096);
    CHECK(message.find("killed along with the app") != std::string::npos);
    CHECK(message.find("OOM kills: 0 so far") != std::string::npos);
    facts.stop = StopSignal{SIGTERM, Duration{40'000}};
    CHECK(verdict_line(facts) == "stopping: SIGTERM forwarded at 40.0s, still running at 43.0s: peak 311Mi of 512Mi limit (60.7%)");
    CHECK(outcome_label(facts) == "running");
}

TEST_CASE("verdict: memory phrases for every source") {
    MemoryFacts memory;
    CHECK(memory_phrase(memory) == "");
    memory.peak = 12 * k_mi;
    CHECK(memory_phrase(memory) == "peak 12Mi");
    memory.limit_known = true;
    CHECK(memory_phrase(memory) == "peak 12Mi, no limit");
    memory.limit = 64 * k_mi;
    CHECK(memory_phrase(memory) == "peak 12Mi of 64Mi limit (18.7%)");
}

TEST_CASE("verdict: history in the first line") {
    RunFacts facts = signaled(SIGKILL);
    facts.oom.kills = 1;
    facts.memory.peak = static_cast<std::uint64_t>(511.85 * k_mi);
    facts.history.exits = 4;
    facts.history.span = Duration{6 * 60'000};
    facts.history.previous = {"OOMKilled", "OOMKilled", "exit 1"};
    CHECK(verdict_line(facts) ==
          "OOMKilled: peak 511.8Mi of 512Mi limit (99.9%) after 43.0s; 4th exit in 6m00s; previous: OOMKilled, OOMKilled, exit 1");
}

TEST_CASE("message: never over the limit, valid UTF-8, newest output kept") {
    RunFacts facts = exited(1);
    for (int i = 0; i < 200; ++i) {
        facts.output.push_back(OutputLine{OutputStream::out, "line " + std::to_string(i) + " \xff\xfe \xE2\x82"});
    }
    for (std::size_t max : {64u, 100u, 300u, 1000u, 4096u}) {
        for (MessageFormat format : {MessageFormat::text, MessageFormat::json}) {
            std::string message = compose_message(facts, format, max);
            CHECK(message.size() <= max);
            CHECK(valid_utf8(message));
        }
    }
    std::string message = compose_message(facts, MessageFormat::text, 4096);
    CHECK(message.find("line 199") != std::string::npos);  // the newest line survives
    CHECK(message.find("line 0 ") == std::string::npos);   // the oldest does not fit
    CHECK(message.find("last output:\n") != std::string::npos);
    // Chronological order among the kept lines.
    CHECK(message.rfind("line 198") < message.rfind("line 199"));
}

TEST_CASE("message: a huge single line is cut, not dropped") {
    RunFacts facts = exited(1);
    facts.output = lines({""});
    facts.output[0].text = std::string(100'000, 'y');
    std::string message = compose_message(facts, MessageFormat::text, 4096);
    CHECK(message.size() <= 4096);
    CHECK(message.find("yyyy") != std::string::npos);
}

TEST_CASE("message: JSON carries the figures and escapes the output") {
    RunFacts facts = signaled(SIGKILL);
    facts.oom.kills = 1;
    facts.output = lines({"say \"hi\"\tthere", "back\\slash"});
    std::string json = compose_message(facts, MessageFormat::json, 4096);
    CHECK(json.front() == '{');
    CHECK(json.back() == '}');
    CHECK(json.find("\"reason\":\"OOMKilled\"") != std::string::npos);
    CHECK(json.find("\"exit_code\":137") != std::string::npos);
    CHECK(json.find("\"signal\":\"SIGKILL\"") != std::string::npos);
    CHECK(json.find("\"limit_bytes\":536870912") != std::string::npos);
    CHECK(json.find("\"oom_kills\":1") != std::string::npos);
    CHECK(json.find("\"last_output\":[\"say \\\"hi\\\" there\",\"back\\\\slash\"]") != std::string::npos);
    // Too small for anything but a cut verdict: still an object.
    std::string tiny = compose_message(facts, MessageFormat::json, 64);
    CHECK(tiny.size() <= 64);
    CHECK(tiny.rfind("{\"verdict\":\"", 0) == 0);
    CHECK(tiny.back() == '}');
}

TEST_CASE("verdict: an exit after a forwarded stop signal") {
    RunFacts graceful = exited(0);
    graceful.stop = StopSignal{SIGTERM, Duration{40'000}};
    CHECK(verdict_line(graceful) == "exit 0 after 43.0s, stopped after SIGTERM at 40.0s");
    CHECK(hint(graceful) == "");
    RunFacts failed = exited(1);
    failed.stop = StopSignal{SIGTERM, Duration{40'000}};
    CHECK(verdict_line(failed) == "exit 1 after 43.0s, failed after SIGTERM at 40.0s");
    CHECK(hint(failed) == "the app exited 1 after SIGTERM; a graceful stop exits 0");
}

namespace {

// A group OOM kill on cgroup v2 as the running record sees it just before.
RunFacts at_the_limit(std::string origin) {
    RunFacts facts = base_facts();
    facts.runtime = Duration{3'100};
    facts.memory.limit = 64 * k_mi;
    facts.memory.peak = 64 * k_mi;
    facts.memory.limit_origin = std::move(origin);
    facts.memory.limit_dir = "/sys/fs/cgroup/kubepods/pod1";
    facts.memory.oom_group = true;
    facts.memory.events = MemoryEvents{};
    facts.memory.sampled_at = Duration{3'090};
    return facts;
}

}  // namespace

TEST_CASE("verdict: the limit is named where it comes from") {
    RunFacts facts = at_the_limit("pod");
    facts.memory.peak = 60 * k_mi;
    CHECK(memory_phrase(facts.memory) == "peak 60Mi of 64Mi limit (pod, 93.7%)");
    CHECK(verdict_line(facts) == "still running at 3.1s: peak 60Mi of 64Mi limit (pod, 93.7%)");
    std::string message = compose_message(facts, MessageFormat::text, 4096);
    CHECK(message.find("\nlimit: 64Mi (pod), the tightest memory limit from the container's cgroup up, in "
                       "/sys/fs/cgroup/kubepods/pod1; peak and usage are read there\n") != std::string::npos);
    CHECK(message.find("memory.oom.group=1: an OOM kill takes every process of the container, healthgate included") !=
          std::string::npos);
}

TEST_CASE("verdict: the running record at the limit says what a group kill means") {
    RunFacts facts = at_the_limit("pod");
    facts.memory.events->max = 20;
    CHECK(reached_limit(facts.memory));
    CHECK(verdict_line(facts) ==
          "at the memory limit: 64Mi of 64Mi (pod) after 3.1s — memory.oom.group=1: an OOM kill takes the whole container");
    std::string message = compose_message(facts, MessageFormat::text, 4096);
    CHECK(message.find("\nstatus: running at the memory limit; if the container exited 137 with this record, the kernel "
                       "OOM-killed the whole container at its limit (memory.oom.group=1)") != std::string::npos);
    CHECK(message.find("read at 3.1s, just before such a kill") != std::string::npos);
    CHECK(message.find("\nmemory.events since start: max 20, high 0, oom 0, oom_kill 0, oom_group_kill 0\n") !=
          std::string::npos);

    facts.memory.events->max = 0;  // not seen by healthgate before a kill: near is what it can say
    facts.memory.peak = static_cast<std::uint64_t>(63.5 * k_mi);
    CHECK(near_limit(facts.memory));
    CHECK(verdict_line(facts) == "near the memory limit: peak 63.5Mi of 64Mi limit (pod, 99.2%) after 3.1s — "
                                 "memory.oom.group=1: an OOM kill takes the whole container");
    CHECK(compose_message(facts, MessageFormat::text, 4096).find("\nstatus: running near the memory limit; if the "
                                                                 "container exited 137 with this record") !=
          std::string::npos);
    facts.memory.peak = 60 * k_mi;
    CHECK_FALSE(near_limit(facts.memory));
    CHECK(verdict_line(facts).rfind("still running at 3.1s", 0) == 0);

    facts.memory.events->max = 20;
    facts.memory.peak = 64 * k_mi;
    facts.memory.oom_group = false;  // one process at a time: the final record will follow
    CHECK(verdict_line(facts) == "at the memory limit: 64Mi of 64Mi (pod) after 3.1s");
    CHECK(compose_message(facts, MessageFormat::text, 4096).find("healthgate was killed along with the app") !=
          std::string::npos);
}

TEST_CASE("verdict: a group kill that healthgate outlived") {
    RunFacts facts = at_the_limit("container");
    facts.exit.kind = AppExit::Kind::signaled;
    facts.exit.signal = SIGKILL;
    facts.oom.kills = 1;
    facts.memory.events->oom_group_kill = 1;
    CHECK(verdict_line(facts) == "OOMKilled: peak 64Mi of 64Mi limit (container, 100.0%) after 3.1s — a group OOM "
                                 "kill (memory.oom.group=1) took every process of the container");
}

TEST_CASE("verdict: memory.high, pressure and swap, each with its source") {
    RunFacts facts = exited(0);
    facts.memory.high = 32 * k_mi;
    facts.memory.high_origin = "container";
    facts.memory.events = MemoryEvents{};
    facts.memory.events->high = 57;
    facts.memory.pressure = Pressure{12.5, 3.25, 10, 2, 4'500'000, 3'000'000};
    facts.memory.worst_pressure = Pressure{40, 9, 30, 7, 4'000'000, 2'900'000};
    facts.memory.worst_pressure_at = Duration{2'000};
    facts.memory.swap = 12 * k_mi;
    std::string message = compose_message(facts, MessageFormat::text, 4096);
    CHECK(message.find("\nmemory.high: 32Mi (container), throttled above it 57 times (memory.events high)\n") !=
          std::string::npos);
    CHECK(message.find("\npressure (memory.pressure): some 12.50%/3.25%, full 10.00%/2.00% (avg10/avg60), stalled "
                       "4500ms/3000ms in all; worst at 2.0s: some 40.00%/9.00%") != std::string::npos);
    CHECK(message.find("\nswap: 12Mi (memory.swap.current)") != std::string::npos);

    std::string json = compose_message(facts, MessageFormat::json, 4096);
    CHECK(json.find("\"high_bytes\":33554432,\"high_origin\":\"container\"") != std::string::npos);
    CHECK(json.find("\"pressure\":{\"some_avg10\":12.50,") != std::string::npos);
    CHECK(json.find("\"worst\":{\"some_avg10\":40.00,") != std::string::npos);
    CHECK(json.find("\"swap_bytes\":12582912") != std::string::npos);
}

TEST_CASE("verdict: a running JSON record explains itself") {
    RunFacts facts = at_the_limit("container");
    facts.memory.events->oom = 1;
    std::string json = compose_message(facts, MessageFormat::json, 4096);
    CHECK(json.find("\"reason\":\"Running\"") != std::string::npos);
    CHECK(json.find("\"status\":\"status: running at the memory limit; if the container exited 137 with this record") !=
          std::string::npos);
    CHECK(json.find("\"limit_origin\":\"container\",\"limit_cgroup\":\"/sys/fs/cgroup/kubepods/pod1\"") !=
          std::string::npos);
    CHECK(json.find("\"oom_group\":true,\"at_limit\":true,\"events\":{\"max\":0,\"high\":0,\"oom\":1,") !=
          std::string::npos);
    CHECK(exited(0).memory.limit_origin.empty());
    CHECK(compose_message(exited(0), MessageFormat::json, 4096).find("\"status\"") == std::string::npos);
}

TEST_CASE("message: a long last line is quoted by its end, in the room the record has") {
    RunFacts facts = exited(1);
    facts.output = lines({"starting", ""});
    facts.output[1].text = "{\"msg\":\"request\",\"body\":\"" + std::string(3000, 'b') + "\",\"error\":\"disk full\"}";
    for (MessageFormat format : {MessageFormat::text, MessageFormat::json}) {
        std::string message = compose_message(facts, format, 4096);
        CHECK(message.size() <= 4096);
        bool quoted_end = message.find("\\\"error\\\":\\\"disk full\\\"}") != std::string::npos ||
                          message.find("\"error\":\"disk full\"}") != std::string::npos;
        CHECK(quoted_end);
        // Whole, not cut to a few hundred bytes: the record's room is used.
        CHECK(message.find(std::string(2900, 'b')) != std::string::npos);
    }
    facts.output[1].text = std::string(10'000, 'c') + " FATAL: out of disk";
    std::string message = compose_message(facts, MessageFormat::text, 4096);
    CHECK(message.size() <= 4096);
    CHECK(message.find("\xE2\x80\xA6" "ccc") != std::string::npos);
    CHECK(message.find("ccc FATAL: out of disk") != std::string::npos);
    CHECK(message.rfind("  starting") == std::string::npos);  // no room left for the older line
}

TEST_CASE("message: output on a terminal is said to be unquoted") {
    RunFacts facts = exited(1);
    facts.output_on_terminal = true;
    CHECK(compose_message(facts, MessageFormat::text, 4096).find("\noutput on a terminal is not quoted") !=
          std::string::npos);
    CHECK(compose_message(facts, MessageFormat::json, 4096).find("\"output_on_terminal\":true") != std::string::npos);
    facts.output_on_terminal = false;
    CHECK(compose_message(facts, MessageFormat::text, 4096).find("terminal") == std::string::npos);
}
