// Build-time generator: prints Beast's HTTP field names, in the order of
// boost::beast::http::field, as C++ string literals (one per line). Built in
// Beast's header-only mode, so the names come from the installed Boost's own
// table; check/beast_fields.cpp compiles them into a constant table.
#include <boost/beast/http/field.hpp>
#include <cstdio>

int main() {
    namespace http = boost::beast::http;
    const std::size_t count = http::detail::get_field_table().size();
    for (std::size_t i = 0; i < count; ++i) {
        auto name = http::to_string(static_cast<http::field>(i));
        std::printf("\"%.*s\",\n", static_cast<int>(name.size()), name.data());
    }
    return 0;
}
