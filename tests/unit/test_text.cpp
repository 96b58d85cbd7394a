#include <catch2/catch.hpp>

#include "common/text.hpp"

using namespace healthgate;

TEST_CASE("utf8_prefix never cuts a character", "[text]") {
    std::string s = "ab\xC3\xA9\xE2\x82\xAC";  // a b é €
    CHECK(utf8_prefix(s, 3) == "ab");
    CHECK(utf8_prefix(s, 4) == "ab\xC3\xA9");
    CHECK(utf8_prefix(s, 6) == "ab\xC3\xA9");
    CHECK(utf8_prefix(s, 7) == s);
    CHECK(utf8_prefix("ab\xE2\x82", 10) == "ab");  // truncated sequence at the end
}

TEST_CASE("utf8_sanitize replaces invalid bytes", "[text]") {
    CHECK(utf8_sanitize("ok") == "ok");
    CHECK(utf8_sanitize("a\xFF" "b") == "a\xEF\xBF\xBD" "b");
    CHECK(utf8_sanitize("\xC0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD");        // overlong NUL
    CHECK(utf8_sanitize("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

TEST_CASE("percent decoding", "[text]") {
    std::string out;
    CHECK(percent_decode("a%20b%2Fc", out));
    CHECK(out == "a b/c");
    CHECK_FALSE(percent_decode("a%2", out));
    CHECK_FALSE(percent_decode("a%zz", out));
    CHECK_FALSE(percent_decode("%", out));
}

TEST_CASE("json escaping", "[text]") {
    CHECK(json_escape("a\"b\\c\n\x01") == "a\\\"b\\\\c\\n\\u0001");
}

TEST_CASE("booleans", "[text]") {
    bool value = false;
    CHECK((parse_bool("True", value) && value));
    CHECK((parse_bool("0", value) && !value));
    CHECK_FALSE(parse_bool("maybe", value));
}

TEST_CASE("percent_encode escapes what an option value cannot hold, and percent_decode undoes it") {
    CHECK(percent_encode("ledger.v1.Worker") == "ledger.v1.Worker");
    CHECK(percent_encode("a b&c=d#e,f%") == "a%20b%26c%3Dd%23e%2Cf%25");
    for (std::string text : {std::string("grpc.health.v1.Health"), std::string("x y&z=1#,%\n\xC3\xA9")}) {
        std::string back;
        REQUIRE(percent_decode(percent_encode(text), back));
        CHECK(back == text);
    }
}
