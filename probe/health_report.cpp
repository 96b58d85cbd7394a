#include "probe/health_report.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "common/text.hpp"

namespace healthgate::probe {

std::string one_line(std::string_view text, std::size_t max_bytes) {
    std::string flat;
    flat.reserve(std::min(text.size(), max_bytes + 4));
    for (char c : text) {
        if (flat.size() > max_bytes + 4) break;
        auto u = static_cast<unsigned char>(c);
        flat += (c == '\n' || c == '\r' || c == '\t' || u < 0x20 || u == 0x7f) ? ' ' : c;
    }
    std::string clean = utf8_sanitize(flat);
    if (clean.size() <= max_bytes) return clean;
    std::string cut(utf8_prefix(clean, max_bytes - 3));
    return cut + "...";
}

std::string format_line(std::string_view name, bool pass, std::string_view reason) {
    if (pass) return fmt::format("[+]{} ok", one_line(name, 256));
    return fmt::format("[-]{} failed: {}", one_line(name, 256), reason.empty() ? "unknown reason" : one_line(reason));
}

std::string format_probe_output(const std::vector<ProbeLine>& lines, std::size_t max_bytes) {
    std::vector<std::string> formatted;
    formatted.reserve(lines.size());
    std::size_t total = 0;
    for (const ProbeLine& line : lines) {
        formatted.push_back(format_line(line.name, line.pass, line.reason) + "\n");
        total += formatted.back().size();
    }
    if (total <= max_bytes) {
        std::string out;
        out.reserve(total);
        for (const std::string& line : formatted) out += line;
        return out;
    }
    // Too long: failures matter, passes are summarised.
    std::size_t passed = 0;
    std::vector<const std::string*> failures;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].pass) ++passed;
        else failures.push_back(&formatted[i]);
    }
    std::string tail = passed ? fmt::format("[+]{} more ok\n", passed) : "";
    std::string out;
    std::size_t shown = 0;
    for (const std::string* line : failures) {
        std::string more = fmt::format("[-]{} more failed\n", failures.size() - shown);
        if (out.size() + line->size() + more.size() + tail.size() > max_bytes) break;
        out += *line;
        ++shown;
    }
    if (shown < failures.size()) out += fmt::format("[-]{} more failed\n", failures.size() - shown);
    out += tail;
    if (out.size() > max_bytes) out = std::string(utf8_prefix(out, max_bytes));
    return out;
}

std::string format_rfc3339(std::chrono::system_clock::time_point time) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
    auto seconds = static_cast<std::time_t>(ms / 1000);
    if (ms < 0) seconds = 0, ms = 0;
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", fmt::gmtime(seconds), ms % 1000);
}

}  // namespace healthgate::probe
