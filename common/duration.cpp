#include "common/duration.hpp"

#include <cmath>
#include <fmt/format.h>

namespace healthgate {

Expected<Duration> parse_duration(std::string_view text) {
    auto bad = [&](std::string_view why) {
        return make_error(fmt::format("invalid duration \"{}\": {}", text, why));
    };
    if (text.empty()) return bad("empty");
    if (text == "0") return Duration{0};
    double total_ms = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t start = i;
        bool seen_dot = false;
        while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || (text[i] == '.' && !seen_dot))) {
            if (text[i] == '.') seen_dot = true;
            ++i;
        }
        if (i == start || (i - start == 1 && text[start] == '.')) return bad("expected a number");
        double number = std::stod(std::string(text.substr(start, i - start)));
        std::size_t unit_start = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
        std::string_view unit = text.substr(unit_start, i - unit_start);
        double scale;
        if (unit == "ms") scale = 1;
        else if (unit == "s") scale = 1000;
        else if (unit == "m") scale = 60'000;
        else if (unit == "h") scale = 3'600'000;
        else if (unit.empty()) return bad("missing unit (ms, s, m, h)");
        else return bad(fmt::format("unknown unit \"{}\" (use ms, s, m, h)", unit));
        total_ms += number * scale;
        if (total_ms > 1e12) return bad("too large");
    }
    return Duration{static_cast<Duration::rep>(std::llround(total_ms))};
}

std::string format_duration(Duration d) {
    auto ms = d.count();
    // fmt, not "-" + string: GCC 12 -Wrestrict misreads the inlined operator+ (PR105329).
    if (ms < 0) return fmt::format("-{}", format_duration(Duration{-ms}));
    if (ms < 1000) return fmt::format("{}ms", ms);
    if (ms < 60'000) return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
    if (ms < 3'600'000) return fmt::format("{}m{:02}s", ms / 60'000, (ms / 1000) % 60);
    return fmt::format("{}h{:02}m", ms / 3'600'000, (ms / 60'000) % 60);
}

}  // namespace healthgate
