// Beast's header-field names as a table built by the compiler.
//
// Beast (header-only) builds its field table at run time on first use: 357
// names hashed into 16 KiB of zero-filled memory, about a quarter of the exec
// probe's instructions and four page faults, to parse one response. healthgate
// compiles Beast once (BOOST_BEAST_SEPARATE_COMPILATION, check/beast.cpp)
// without its field.ipp and defines the three field functions here, from the
// installed Boost's own names (generated at build time by
// check/gen/beast_field_names.cpp, so they always match the enum).
#include <algorithm>
#include <array>
#include <boost/beast/http/field.hpp>
#include <ostream>
#include <string_view>

namespace {

constexpr std::string_view k_names[] = {
#include "beast_field_names.inc"
};
constexpr std::size_t k_count = std::size(k_names);
static_assert(k_count > static_cast<std::size_t>(boost::beast::http::field::xref));
static_assert(k_names[static_cast<std::size_t>(boost::beast::http::field::host)] == "Host");

constexpr char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Case-insensitive three-way comparison.
constexpr int compare_icase(std::string_view a, std::string_view b) {
    std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        char x = lower(a[i]), y = lower(b[i]);
        if (x != y) return x < y ? -1 : 1;
    }
    return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

// Indexes of the known names (1..count-1; 0 is "<unknown-field>") sorted
// case-insensitively, for a binary search.
constexpr auto k_sorted = [] {
    std::array<unsigned short, k_count - 1> order{};
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<unsigned short>(i + 1);
    std::sort(order.begin(), order.end(),
              [](unsigned short a, unsigned short b) { return compare_icase(k_names[a], k_names[b]) < 0; });
    return order;
}();

}  // namespace

namespace boost::beast::http {

string_view to_string(field f) {
    auto i = static_cast<std::size_t>(f);
    return i < k_count ? k_names[i] : k_names[0];
}

field string_to_field(string_view s) {
    auto it = std::lower_bound(k_sorted.begin(), k_sorted.end(), s,
                               [](unsigned short i, string_view key) { return compare_icase(k_names[i], key) < 0; });
    if (it != k_sorted.end() && compare_icase(k_names[*it], s) == 0) return static_cast<field>(*it);
    return field::unknown;
}

std::ostream& operator<<(std::ostream& os, field f) { return os << to_string(f); }

}  // namespace boost::beast::http
