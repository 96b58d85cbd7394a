#include "common/status_set.hpp"

#include <charconv>
#include <fmt/format.h>

#include "common/text.hpp"

namespace healthgate {
namespace {

bool parse_status(std::string_view text, int& out) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && ptr == text.data() + text.size() && out >= 100 && out <= 599;
}

}  // namespace

Expected<StatusSet> StatusSet::parse(std::string_view text) {
    StatusSet set;
    set.ranges_.clear();
    for (std::string_view item : split(text, ',')) {
        item = trim(item);
        auto dash = item.find('-');
        int low = 0, high = 0;
        bool ok = dash == std::string_view::npos
                      ? parse_status(item, low) && (high = low, true)
                      : parse_status(trim(item.substr(0, dash)), low) && parse_status(trim(item.substr(dash + 1)), high);
        if (!ok) {
            return make_error(fmt::format(
                "invalid status \"{}\" in \"{}\": expected codes 100-599 or ranges like 200-299, separated by commas",
                item, text));
        }
        if (low > high) return make_error(fmt::format("invalid status range \"{}\": {} is greater than {}", item, low, high));
        set.ranges_.emplace_back(low, high);
    }
    return set;
}

bool StatusSet::contains(int status) const {
    for (auto [low, high] : ranges_) {
        if (status >= low && status <= high) return true;
    }
    return false;
}

std::string StatusSet::to_string() const {
    std::string out;
    for (auto [low, high] : ranges_) {
        if (!out.empty()) out += ',';
        out += low == high ? fmt::format("{}", low) : fmt::format("{}-{}", low, high);
    }
    return out;
}

}  // namespace healthgate
