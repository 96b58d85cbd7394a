#include <catch2/catch.hpp>

#include "common/error_line.hpp"
#include "common/text.hpp"

using namespace healthgate;

namespace {
bool has(const std::vector<std::string>& list, std::string_view item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}
}  // namespace

TEST_CASE("error_line: secrets collected from targets, options and config text", "[error_line]") {
    auto url = secrets_in("http://user:s3cretPW@127.0.0.1:1/");
    CHECK(has(url, "s3cretPW"));
    CHECK_FALSE(has(url, "user"));
    auto header = secrets_in("http://127.0.0.1:1/#header=Authorization:Bearer%20TOKEN123&bogus=1");
    CHECK(has(header, "Bearer%20TOKEN123"));
    CHECK(has(header, "Bearer TOKEN123"));
    CHECK(has(header, "TOKEN123"));
    auto option = secrets_in("postgres://db:5432#user=app&password=hunter22");
    CHECK(has(option, "hunter22"));
    auto yaml = secrets_in("checks:\n  - name: db\n    password: \"topsecret\"\n    api_token: abc123\n");
    CHECK(has(yaml, "topsecret"));
    CHECK(has(yaml, "abc123"));
    CHECK(secrets_in("tcp://db:5432 http://user@host/ password=ab").empty());  // no password, too short
}

TEST_CASE("error_line: redacts known secrets however the parser quoted them", "[error_line]") {
    auto secrets = secrets_in("http://127.0.0.1:1/#header=Authorization:Bearer%20TOKEN123&bogus=1");
    CHECK(error_line("probe: unknown option \"bogus\" in http://127.0.0.1:1/#header=Authorization:Bearer%20TOKEN123&bogus=1",
                     secrets) == "probe: unknown option \"bogus\" in http://127.0.0.1:1/#header=Authorization:<secret>&bogus=1");
    // The parser decoded the value and printed it differently: still redacted.
    CHECK(error_line("bad header value Bearer TOKEN123", secrets) == "bad header value <secret>");
    CHECK(error_line("token TOKEN123 rejected", secrets) == "token <secret> rejected");
}

TEST_CASE("error_line: redacts secret-shaped parts with no inputs known", "[error_line]") {
    CHECK(error_line("bad target http://user:pw@host:1/x", {}) == "bad target http://user:<secret>@host:1/x");
    CHECK(error_line("bad option header=X-Api-Key:k&timeout=zz", {}) == "bad option header=X-Api-Key:<secret>&timeout=zz");
    CHECK(error_line("redis://h:6379#password=pw9 is wrong", {}) == "redis://h:6379#password=<secret> is wrong");
    CHECK(error_line("http://user@host/ and http://host/a:b@c", {}) == "http://user@host/ and http://host/a:b@c");
}

TEST_CASE("error_line: one escaped, bounded, valid UTF-8 line", "[error_line]") {
    CHECK(error_line("name \"a\nb\tc\x1b[31m\"", {}) == "name \"a\\nb\\tc\\x1b[31m\"");
    std::string huge = "check name \"" + std::string(10'000'000, 'x') + "\" too long";
    std::string line = error_line(huge, {});
    CHECK(line.size() <= k_error_line_max + 40);
    CHECK_THAT(line, Catch::EndsWith("bytes cut)"));
    std::string bad_utf8 = "value \xff\xfe end";
    CHECK(utf8_sanitize(error_line(bad_utf8, {})) == error_line(bad_utf8, {}));
    CHECK(error_line(std::string(2000, 'a') + "é", {}, 2001).find('\n') == std::string::npos);
}

TEST_CASE("error_line: a config file's secrets from its YAML structure", "[error_line]") {
    auto secrets = config_secrets(
        "targets:\n  - url: http://api/\n    header:\n      - \"Authorization: Bearer abc.def\"\n"
        "  - {url: \"redis://:r3dispw@cache:6379\", password: pgpass1}\n"
        "  - url: http://x/\n    header: {X-Api-Key: key123}\n");
    CHECK(has(secrets, "Bearer abc.def"));
    CHECK(has(secrets, "abc.def"));
    CHECK(has(secrets, "r3dispw"));
    CHECK(has(secrets, "pgpass1"));
    CHECK(has(secrets, "key123"));
    CHECK(config_secrets("{not: [yaml").empty());
}
