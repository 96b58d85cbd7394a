#include <boost/beast/http/field.hpp>
#include <catch2/catch.hpp>
#include <cctype>
#include <sstream>
#include <string>

namespace http = boost::beast::http;

TEST_CASE("Beast's field names from the compiled table: enum order, case-insensitive lookup", "[http]") {
    REQUIRE(http::to_string(http::field::unknown) == "<unknown-field>");
    REQUIRE(http::to_string(http::field::host) == "Host");
    REQUIRE(http::to_string(http::field::content_length) == "Content-Length");
    REQUIRE(http::to_string(http::field::transfer_encoding) == "Transfer-Encoding");
    REQUIRE(http::to_string(http::field::xref) == "Xref");

    // Every known field round-trips, whatever the case of the name.
    for (unsigned i = 1; i <= static_cast<unsigned>(http::field::xref); ++i) {
        auto f = static_cast<http::field>(i);
        std::string name(http::to_string(f));
        REQUIRE_FALSE(name.empty());
        REQUIRE(http::string_to_field(name) == f);
        std::string lower, upper;
        for (char c : name) {
            lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        REQUIRE(http::string_to_field(lower) == f);
        REQUIRE(http::string_to_field(upper) == f);
    }

    REQUIRE(http::string_to_field("") == http::field::unknown);
    REQUIRE(http::string_to_field("X-Healthgate") == http::field::unknown);
    REQUIRE(http::string_to_field("Content-Lengt") == http::field::unknown);
    REQUIRE(http::string_to_field("Content-Lengthh") == http::field::unknown);
    REQUIRE(http::string_to_field("<unknown-field>") == http::field::unknown);

    std::ostringstream out;
    out << http::field::user_agent;
    REQUIRE(out.str() == "User-Agent");
}
