#include "sidecar/verdict.hpp"

#include <algorithm>
#include <csignal>
#include <cmath>
#include <fmt/format.h>

#include "common/termination_message.hpp"
#include "common/text.hpp"
#include "sidecar/signal_names.hpp"

namespace healthgate::sidecar {
namespace {

constexpr std::size_t k_quote_max = 200;  // the quote in the verdict line
// An output line that does not fit whole is quoted by its end (printable()) in
// the room left, as long as that room can say something; older lines then go.
constexpr std::size_t k_min_cut_line = 64;

double floor_tenth(double value) { return std::floor(value * 10.0 + 1e-9) / 10.0; }

std::string tenth(double value) {
    std::string text = fmt::format("{:.1f}", floor_tenth(value));
    if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) text.resize(text.size() - 2);
    return text;
}

std::string quote_of(const RunFacts& facts) {
    int index = pick_quote(facts.output);
    if (index < 0) return "";
    return printable(facts.output[static_cast<std::size_t>(index)], k_quote_max);
}

bool quotes_output(Verdict verdict) {
    switch (verdict) {
        case Verdict::completed:
        case Verdict::error:
        case Verdict::child_oom_killed:
        case Verdict::signaled: return true;
        default: return false;
    }
}

std::string status_line(const RunFacts& facts) {
    const AppExit& exit = facts.exit;
    switch (exit.kind) {
        case AppExit::Kind::running:
            if (facts.stop) {
                return fmt::format(
                    "status: stopping since {} was forwarded at {}; healthgate rewrites this record while the app runs, "
                    "so if the container has exited with it, the app outlived the grace period and was killed along "
                    "with healthgate",
                    signal_name(facts.stop->signal), format_duration(facts.stop->at));
            }
            if (facts.memory.oom_group.value_or(false) && (reached_limit(facts.memory) || near_limit(facts.memory))) {
                return fmt::format(
                    "status: running {}; if the container exited 137 with this record, the kernel OOM-killed the "
                    "whole container at its limit (memory.oom.group=1), healthgate included, before it could write "
                    "the final record; these figures were read at {}, just before such a kill",
                    reached_limit(facts.memory) ? "at the memory limit" : "near the memory limit",
                    format_duration(facts.memory.sampled_at));
            }
            if (facts.memory.oom_group.value_or(false)) {
                return "status: running; memory.oom.group=1: an OOM kill takes every process of the container, "
                       "healthgate included, and healthgate rewrites this record the moment memory.events shows the "
                       "limit reached; so if the container exited 137 with this record, the kill came from elsewhere "
                       "(liveness probe, grace period, node pressure) or faster than healthgate could record it";
            }
            return "status: running; healthgate rewrites this record while the app runs, so if the container has "
                   "exited with it, healthgate was killed along with the app (a group OOM kill, or SIGKILL to the "
                   "whole container) before it could write the final record";
        case AppExit::Kind::exited: {
            std::string line = fmt::format("exit code: {}", exit.code);
            int signal = exit.code - 128;
            if (exit.code > 128 && signal <= 64) {
                line += fmt::format(" (= 128+{}: the app passed on a child's death by {})", signal, signal_name(signal));
            }
            return line;
        }
        case AppExit::Kind::signaled:
            return fmt::format("signal: {} (exit code {}), {}", signal_name(exit.signal), 128 + exit.signal,
                               exit.core_dumped ? "core dumped" : "no core dump");
        case AppExit::Kind::exec_failed: return fmt::format("exit code: {} (the command never started)", exit.code);
    }
    return "";
}

std::string oom_line(const RunFacts& facts, Verdict verdict) {
    const OomFacts& oom = facts.oom;
    if (!oom.known) return "OOM kills: unknown (no cgroup OOM-kill counter)";
    std::string line = fmt::format("OOM kills: {}{}", oom.kills, facts.exit.kind == AppExit::Kind::running ? " so far" : "");
    if (oom.kills == 0) return line;
    std::vector<std::string> parts;
    if (verdict == Verdict::oom_killed) parts.push_back("the app");
    if (oom.child_kills > 0) parts.push_back(fmt::format("{} child process{} while the app ran", oom.child_kills,
                                                         oom.child_kills == 1 ? "" : "es"));
    if (verdict == Verdict::child_oom_killed && oom.child_kills == 0) parts.push_back("a child process");
    if (!parts.empty()) {
        line += " (";
        for (std::size_t i = 0; i < parts.size(); ++i) {
            if (i > 0) line += ", ";
            line += parts[i];
        }
        line += ")";
    }
    return line;
}

// --- JSON ---------------------------------------------------------------------

std::string json_string(std::string_view text) {
    std::string escaped = json_escape(utf8_sanitize(text));
    std::string out;
    out.reserve(escaped.size() + 2);
    out += '"';
    out += escaped;
    out += '"';
    return out;
}

std::string pressure_text(const Pressure& p) {
    return fmt::format("some {:.2f}%/{:.2f}%, full {:.2f}%/{:.2f}% (avg10/avg60), stalled {}ms/{}ms in all",
                       p.some_avg10, p.some_avg60, p.full_avg10, p.full_avg60, p.some_total_us / 1000,
                       p.full_total_us / 1000);
}

// What cgroup v2 adds to the detail, each figure with the file it came from.
std::vector<std::string> cgroup_lines(const MemoryFacts& memory) {
    std::vector<std::string> lines;
    if (!memory.limit_dir.empty() && memory.limit) {
        lines.push_back(fmt::format("limit: {} ({}), the tightest memory limit from the container's cgroup up, in {}; "
                                    "peak and usage are read there",
                                    format_bytes(*memory.limit), memory.limit_origin, memory.limit_dir));
    }
    if (memory.high) {
        lines.push_back(fmt::format("memory.high: {} ({}), throttled above it{}", format_bytes(*memory.high),
                                    memory.high_origin,
                                    memory.events ? fmt::format(" {} times (memory.events high)", memory.events->high)
                                                  : ""));
    }
    if (memory.events) {
        const MemoryEvents& e = *memory.events;
        lines.push_back(fmt::format("memory.events since start: max {}, high {}, oom {}, oom_kill {}, oom_group_kill {}",
                                    e.max, e.high, e.oom, e.oom_kill, e.oom_group_kill));
    }
    if (memory.oom_group) {
        lines.push_back(*memory.oom_group
                            ? "memory.oom.group: 1, an OOM kill takes every process of the container at once"
                            : "memory.oom.group: 0, the OOM killer takes one process at a time");
    }
    if (memory.pressure) {
        std::string line = "pressure (memory.pressure): " + pressure_text(*memory.pressure);
        if (memory.worst_pressure && memory.worst_pressure->some_avg10 > 0) {
            line += fmt::format("; worst at {}: {}", format_duration(memory.worst_pressure_at),
                                pressure_text(*memory.worst_pressure));
        }
        lines.push_back(std::move(line));
    }
    if (memory.swap) lines.push_back(fmt::format("swap: {} (memory.swap.current)", format_bytes(*memory.swap)));
    return lines;
}

std::string pressure_json(const Pressure& p) {
    return fmt::format("\"some_avg10\":{:.2f},\"some_avg60\":{:.2f},\"full_avg10\":{:.2f},\"full_avg60\":{:.2f},"
                       "\"some_total_us\":{},\"full_total_us\":{}",
                       p.some_avg10, p.some_avg60, p.full_avg10, p.full_avg60, p.some_total_us, p.full_total_us);
}

std::string memory_json(const MemoryFacts& memory) {
    std::string out = "{";
    if (memory.peak) out += fmt::format("\"peak_bytes\":{},", *memory.peak);
    if (memory.limit_known) out += fmt::format("\"limit_bytes\":{},", memory.limit ? std::to_string(*memory.limit) : "null");
    if (!memory.limit_origin.empty()) {
        out += fmt::format("\"limit_origin\":{},\"limit_cgroup\":{},", json_string(memory.limit_origin),
                           json_string(memory.limit_dir));
    }
    if (memory.high) {
        out += fmt::format("\"high_bytes\":{},\"high_origin\":{},", *memory.high, json_string(memory.high_origin));
    }
    if (memory.oom_group) out += fmt::format("\"oom_group\":{},", *memory.oom_group ? "true" : "false");
    if (memory.events) {
        const MemoryEvents& e = *memory.events;
        out += fmt::format("\"at_limit\":{},\"events\":{{\"max\":{},\"high\":{},\"oom\":{},\"oom_kill\":{},"
                           "\"oom_group_kill\":{}}},",
                           reached_limit(memory) ? "true" : "false", e.max, e.high, e.oom, e.oom_kill, e.oom_group_kill);
    }
    if (memory.pressure) {
        out += "\"pressure\":{" + pressure_json(*memory.pressure);
        if (memory.worst_pressure) {
            out += fmt::format(",\"worst\":{{{},\"at_ms\":{}}}", pressure_json(*memory.worst_pressure),
                               memory.worst_pressure_at.count());
        }
        out += "},";
    }
    if (memory.swap) out += fmt::format("\"swap_bytes\":{},", *memory.swap);
    if (memory.sampled_at.count() > 0) out += fmt::format("\"sampled_at_ms\":{},", memory.sampled_at.count());
    out += fmt::format("\"source\":{}}}", json_string(memory.source));
    return out;
}

class JsonObject {
public:
    explicit JsonObject(std::size_t max_bytes) : max_bytes_(max_bytes) {}
    // Adds "key":value when it still fits; returns whether it did.
    bool add(std::string_view key, const std::string& value) {
        std::string member = fmt::format("\"{}\":{}", key, value);
        std::size_t size = body_.size() + (body_.empty() ? 0 : 1) + member.size() + 2;
        if (size > max_bytes_) return false;
        if (!body_.empty()) body_ += ',';
        body_ += member;
        return true;
    }
    std::size_t room(std::string_view key) const {
        std::size_t used = body_.size() + (body_.empty() ? 0 : 1) + key.size() + 3 + 2;
        return used < max_bytes_ ? max_bytes_ - used : 0;
    }
    std::string str() const { return "{" + body_ + "}"; }

private:
    std::size_t max_bytes_;
    std::string body_;
};

std::string compose_json(const RunFacts& facts, Verdict verdict, std::size_t max_bytes) {
    JsonObject json(max_bytes);
    std::string line = utf8_sanitize(verdict_line(facts));
    if (!json.add("verdict", json_string(line))) {
        // Cut the verdict until its escaped form fits; "{}" when nothing does.
        std::size_t room = json.room("verdict");
        std::string cut(utf8_prefix(line, room));
        while (!cut.empty() && json_string(cut).size() > room) cut = std::string(utf8_prefix(cut, cut.size() - 1));
        if (!json.add("verdict", json_string(cut))) return max_bytes >= 2 ? "{}" : "";
    }
    json.add("reason", json_string(reason_word(verdict)));
    const AppExit& exit = facts.exit;
    if (exit.kind != AppExit::Kind::running) json.add("exit_code", std::to_string(exit_code(exit)));
    if (exit.kind == AppExit::Kind::signaled) {
        json.add("signal", json_string(signal_name(exit.signal)));
        json.add("core_dumped", exit.core_dumped ? "true" : "false");
    }
    if (exit.kind == AppExit::Kind::exec_failed) json.add("exec_error", json_string(exit.exec_error));
    json.add("runtime_ms", std::to_string(facts.runtime.count()));
    // Running records explain themselves: what it means if the container exited with one.
    if (exit.kind == AppExit::Kind::running) json.add("status", json_string(status_line(facts)));
    json.add("memory", memory_json(facts.memory));
    if (facts.oom.known) {
        json.add("oom_kills", std::to_string(facts.oom.kills));
        json.add("child_oom_kills", std::to_string(facts.oom.child_kills));
    }
    if (facts.stop) {
        json.add("stop_signal", json_string(signal_name(facts.stop->signal)));
        json.add("stop_at_ms", std::to_string(facts.stop->at.count()));
    }
    if (std::string h = hint(facts); !h.empty()) json.add("hint", json_string(h));
    if (facts.history.exits >= 2) {
        std::string previous = "[";
        for (std::size_t i = 0; i < facts.history.previous.size(); ++i) {
            if (i > 0) previous += ',';
            previous += json_string(facts.history.previous[i]);
        }
        previous += "]";
        json.add("history", fmt::format("{{\"exits\":{},\"span_ms\":{},\"previous\":{}}}", facts.history.exits,
                                        facts.history.span.count(), previous));
    }
    if (facts.output_on_terminal) json.add("output_on_terminal", "true");
    // The newest lines that fit, shown oldest first.
    std::size_t room = json.room("last_output");
    std::vector<std::string> chosen;
    std::size_t used = 2;  // []
    for (auto it = facts.output.rbegin(); it != facts.output.rend(); ++it) {
        if (is_blank(*it)) continue;
        std::size_t separator = chosen.empty() ? 0 : 1;
        std::size_t left = room > used + separator ? room - used - separator : 0;
        std::string item = json_string(printable(*it, k_max_line_bytes));
        bool fits = item.size() <= left;
        if (!fits && left < 2 + k_min_cut_line) break;
        // Escaping can grow the text: cut further until the quoted form fits.
        for (std::size_t max = left - 2; item.size() > left && max > 0;) {
            max = max > item.size() - left ? max - (item.size() - left) : 0;
            item = json_string(printable(*it, max));
        }
        if (item.size() > left) break;
        used += item.size() + separator;
        chosen.push_back(std::move(item));
        if (!fits) break;
    }
    if (!chosen.empty()) {
        std::string list = "[";
        for (auto it = chosen.rbegin(); it != chosen.rend(); ++it) {
            if (it != chosen.rbegin()) list += ',';
            list += *it;
        }
        list += "]";
        json.add("last_output", list);
    }
    return json.str();
}

}  // namespace

Verdict classify(const RunFacts& facts) {
    const AppExit& exit = facts.exit;
    bool oom_rose = facts.oom.known && facts.oom.kills > 0;
    switch (exit.kind) {
        case AppExit::Kind::running: return facts.stop ? Verdict::stopping : Verdict::running;
        case AppExit::Kind::exec_failed: return Verdict::exec_failed;
        case AppExit::Kind::signaled:
            if (exit.signal == SIGKILL) {
                // Kills not already pinned on a child while the app lived are the app's.
                if (facts.oom.known && facts.oom.kills > facts.oom.child_kills) return Verdict::oom_killed;
                return Verdict::killed;
            }
            return oom_rose ? Verdict::child_oom_killed : Verdict::signaled;
        case AppExit::Kind::exited:
            if (oom_rose) return Verdict::child_oom_killed;
            return exit.code == 0 ? Verdict::completed : Verdict::error;
    }
    return Verdict::error;
}

int exit_code(const AppExit& exit) {
    switch (exit.kind) {
        case AppExit::Kind::signaled: return 128 + exit.signal;
        case AppExit::Kind::running: return 0;
        default: return exit.code;
    }
}

std::string reason_word(Verdict verdict) {
    switch (verdict) {
        case Verdict::running: return "Running";
        case Verdict::stopping: return "Stopping";
        case Verdict::completed: return "Completed";
        case Verdict::error: return "Error";
        case Verdict::oom_killed: return "OOMKilled";
        case Verdict::child_oom_killed: return "ChildOOMKilled";
        case Verdict::killed: return "Killed";
        case Verdict::signaled: return "Signaled";
        case Verdict::exec_failed: return "ExecFailed";
    }
    return "Error";
}

std::string outcome_label(const RunFacts& facts) {
    Verdict verdict = classify(facts);
    const AppExit& exit = facts.exit;
    std::string base = exit.kind == AppExit::Kind::exited ? fmt::format("exit {}", exit.code) : signal_name(exit.signal);
    switch (verdict) {
        case Verdict::running:
        case Verdict::stopping: return std::string(k_outcome_running);
        case Verdict::oom_killed: return "OOMKilled";
        case Verdict::exec_failed: return fmt::format("exec failed ({})", exit.code);
        case Verdict::child_oom_killed: return base + " (child OOMKilled)";
        default: return base;
    }
}

std::string format_bytes(std::uint64_t bytes) {
    if (bytes < 1024) return fmt::format("{}B", bytes);
    static constexpr const char* k_units[] = {"Ki", "Mi", "Gi", "Ti", "Pi"};
    double value = static_cast<double>(bytes) / 1024.0;
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < std::size(k_units)) {
        value /= 1024.0;
        ++unit;
    }
    return tenth(value) + k_units[unit];
}

std::string memory_phrase(const MemoryFacts& memory) {
    if (memory.peak && memory.limit_known && memory.limit && *memory.limit > 0) {
        double percent = static_cast<double>(*memory.peak) * 100.0 / static_cast<double>(*memory.limit);
        return fmt::format("peak {} of {} limit ({}{:.1f}%)", format_bytes(*memory.peak), format_bytes(*memory.limit),
                           memory.limit_origin.empty() ? "" : memory.limit_origin + ", ", floor_tenth(percent));
    }
    if (memory.peak && memory.limit_known) return fmt::format("peak {}, no limit", format_bytes(*memory.peak));
    if (memory.peak) return fmt::format("peak {}", format_bytes(*memory.peak));
    if (memory.limit_known && memory.limit) return fmt::format("limit {}", format_bytes(*memory.limit));
    return "";
}

bool reached_limit(const MemoryFacts& memory) {
    return memory.events && (memory.events->max > 0 || memory.events->oom > 0);
}

bool near_limit(const MemoryFacts& memory) {
    return memory.peak && memory.limit && *memory.limit > 0 &&
           static_cast<long double>(*memory.peak) >= 0.95L * static_cast<long double>(*memory.limit);
}

std::string verdict_line(const RunFacts& facts) {
    Verdict verdict = classify(facts);
    const AppExit& exit = facts.exit;
    std::string after = format_duration(facts.runtime);
    std::string memory = memory_phrase(facts.memory);
    std::string line;
    switch (verdict) {
        case Verdict::running:
            if (reached_limit(facts.memory) && facts.memory.limit) {
                // Written the moment memory.events rose: a group OOM kill may follow at once.
                line = fmt::format("at the memory limit: {} of {}{} after {}",
                                   format_bytes(facts.memory.peak.value_or(0)), format_bytes(*facts.memory.limit),
                                   facts.memory.limit_origin.empty() ? "" : " (" + facts.memory.limit_origin + ")",
                                   after);
                if (facts.memory.oom_group.value_or(false)) {
                    line += " — memory.oom.group=1: an OOM kill takes the whole container";
                }
            } else if (near_limit(facts.memory) && facts.memory.oom_group.value_or(false)) {
                // Sampled fast enough near the limit to be within a few percent of it at a kill.
                line = fmt::format("near the memory limit: {} after {} — memory.oom.group=1: an OOM kill takes the "
                                   "whole container",
                                   memory, after);
            } else {
                line = fmt::format("still running at {}{}", after, memory.empty() ? "" : ": " + memory);
            }
            break;
        case Verdict::stopping:
            line = fmt::format("stopping: {} forwarded at {}, still running at {}{}", signal_name(facts.stop->signal),
                               format_duration(facts.stop->at), after, memory.empty() ? "" : ": " + memory);
            break;
        case Verdict::oom_killed:
            line = fmt::format("OOMKilled{} after {}", memory.empty() ? "" : ": " + memory, after);
            if (facts.memory.events && facts.memory.events->oom_group_kill > 0) {
                line += " — a group OOM kill (memory.oom.group=1) took every process of the container";
            }
            break;
        case Verdict::killed:
            if (facts.stop && facts.runtime >= facts.stop->at) {
                line = fmt::format("killed by SIGKILL after {}, {} after {}: the grace period ran out", after,
                                   format_duration(facts.runtime - facts.stop->at), signal_name(facts.stop->signal));
            } else if (facts.oom.known) {
                line = fmt::format("killed by SIGKILL after {}, not an OOM kill: sent from elsewhere (liveness probe, "
                                   "grace period, node pressure)",
                                   after);
            } else {
                line = fmt::format("killed by SIGKILL after {} (no OOM-kill counter to tell an OOM kill from a kill "
                                   "from elsewhere)",
                                   after);
            }
            break;
        case Verdict::signaled:
            if (facts.stop && facts.stop->signal == exit.signal) {
                line = fmt::format("stopped by {} after {} (forwarded at {}, not handled by the app)",
                                   signal_name(exit.signal), after, format_duration(facts.stop->at));
            } else {
                line = fmt::format("killed by {}{} after {}", signal_name(exit.signal),
                                   exit.core_dumped ? " (core dumped)" : "", after);
            }
            break;
        case Verdict::child_oom_killed:
            line = exit.kind == AppExit::Kind::exited
                       ? fmt::format("exit {} after {}", exit.code, after)
                       : fmt::format("killed by {} after {}", signal_name(exit.signal), after);
            line += ", a child process was OOM-killed";
            if (!memory.empty()) line += " at " + memory;
            break;
        case Verdict::completed:
        case Verdict::error:
            line = fmt::format("exit {} after {}", exit.code, after);
            if (facts.stop) {
                line += fmt::format(", {} after {} at {}", verdict == Verdict::completed ? "stopped" : "failed",
                                    signal_name(facts.stop->signal), format_duration(facts.stop->at));
            }
            break;
        case Verdict::exec_failed: line = "cannot start: " + exit.exec_error; break;
    }
    if (quotes_output(verdict)) {
        if (std::string quote = quote_of(facts); !quote.empty()) line += ": last output: " + quote;
    }
    if (std::string history = history_phrase(facts.history); !history.empty()) line += "; " + history;
    return line;
}

std::string hint(const RunFacts& facts) {
    Verdict verdict = classify(facts);
    const AppExit& exit = facts.exit;
    switch (verdict) {
        case Verdict::running:
        case Verdict::stopping: return "";
        case Verdict::oom_killed:
            return "the app reached its memory limit: raise resources.limits.memory or find what grows; "
                   "runtime heap settings (-Xmx, GOMEMLIMIT, --max-old-space-size) must stay below the limit";
        case Verdict::child_oom_killed:
            return "a child process reached the container's memory limit and was OOM-killed (Kubernetes then "
                   "reports OOMKilled even though the app lived); raise the limit or reduce the child's memory";
        case Verdict::killed:
            if (facts.stop) {
                return "the app did not exit within terminationGracePeriodSeconds after the stop signal: "
                       "handle SIGTERM faster or raise the grace period";
            }
            return facts.oom.known
                       ? "a SIGKILL from outside, not the OOM killer: a failed liveness probe, the grace period "
                         "running out, or node pressure (kubectl get events shows which)"
                       : "the OOM killer, a failed liveness probe or the end of the grace period: compare the "
                         "peak with the limit and check kubectl get events";
        case Verdict::signaled:
            switch (exit.signal) {
                case SIGSEGV: return "segmentation fault: a crash in native code (the last output or a core dump shows where)";
                case SIGABRT: return "abort: a failed assertion, an uncaught C++ exception or a runtime's fatal error";
                case SIGBUS: return "bus error: a memory-mapped file shrank, or /dev/shm is full";
                case SIGFPE: return "arithmetic fault (integer division by zero)";
                case SIGILL: return "illegal instruction: a binary built for a newer CPU, or a deliberate trap";
                case SIGTERM:
                case SIGINT:
                case SIGQUIT:
                case SIGHUP:
                    return "the app did not handle the stop signal; a graceful app exits 0 on SIGTERM";
                default: return fmt::format("the app was stopped by {}", signal_name(exit.signal));
            }
        case Verdict::exec_failed:
            return exit.code == 127
                       ? "the command must exist in the image (check the path, PATH, and a script's #! interpreter)"
                       : "the file exists but cannot run: check its mode (chmod +x), its architecture, and "
                         "noexec on its volume";
        case Verdict::completed:
            if (facts.stop) return "";  // a graceful stop
            return "the app exited successfully; with restartPolicy Always (a Deployment) it is restarted "
                   "anyway: is it meant to keep running?";
        case Verdict::error:
            if (facts.stop && exit.code <= 128) {
                return fmt::format("the app exited {} after {}; a graceful stop exits 0", exit.code,
                                   signal_name(facts.stop->signal));
            }
            switch (exit.code) {
                case 1: return "application error: the last output usually says why";
                case 2: return "misuse of a command or a Go panic: check the arguments and the last output";
                case 126: return "the app tried to run a command that is not executable";
                case 127: return "the app tried to run a command that was not found";
                default: break;
            }
            if (exit.code > 128 && exit.code - 128 <= 64) {
                int signal = exit.code - 128;
                return signal == SIGKILL
                           ? "the app (a shell?) reports that its child was killed by SIGKILL: the OOM killer or "
                             "a kill from elsewhere"
                           : fmt::format("the app (a shell?) reports that its child died of {}", signal_name(signal));
            }
            return "an application-specific exit code: the last output usually says why";
    }
    return "";
}

std::string compose_message(const RunFacts& facts, MessageFormat format, std::size_t max_bytes) {
    Verdict verdict = classify(facts);
    if (format == MessageFormat::json) return compose_json(facts, verdict, max_bytes);

    std::vector<std::string> lines;
    lines.push_back(verdict_line(facts));
    lines.push_back(status_line(facts));
    if (facts.exit.kind != AppExit::Kind::exec_failed) {
        lines.push_back(fmt::format("runtime: {}", format_duration(facts.runtime)));
        std::string memory = memory_phrase(facts.memory);
        lines.push_back(fmt::format("memory: {}; source: {}", memory.empty() ? "unknown" : memory, facts.memory.source));
        lines.push_back(oom_line(facts, verdict));
        for (std::string& line : cgroup_lines(facts.memory)) lines.push_back(std::move(line));
    }
    if (facts.stop) {
        lines.push_back(fmt::format("stop signal: {} forwarded at {}", signal_name(facts.stop->signal),
                                    format_duration(facts.stop->at)));
    }
    if (std::string h = hint(facts); !h.empty()) lines.push_back("hint: " + h);
    if (facts.output_on_terminal) lines.emplace_back("output on a terminal is not quoted");
    for (std::string& line : lines) line = utf8_sanitize(line);

    std::size_t used = 0;
    for (const std::string& line : lines) used += line.size() + 1;
    static constexpr std::string_view k_header = "last output:";
    std::vector<std::string> chosen;
    if (used + k_header.size() < max_bytes) {
        std::size_t room = max_bytes - used - k_header.size();
        for (auto it = facts.output.rbegin(); it != facts.output.rend(); ++it) {
            if (is_blank(*it)) continue;
            std::string text = "  " + printable(*it, k_max_line_bytes);
            bool fits = text.size() + 1 <= room;
            if (!fits && room < 3 + k_min_cut_line) break;
            if (!fits) text = "  " + printable(*it, room - 3);
            room -= text.size() + 1;
            chosen.push_back(std::move(text));
            if (!fits) break;
        }
    }
    if (!chosen.empty()) {
        lines.emplace_back(k_header);
        lines.insert(lines.end(), chosen.rbegin(), chosen.rend());
    }
    return fit_message(lines, max_bytes);
}

}  // namespace healthgate::sidecar
