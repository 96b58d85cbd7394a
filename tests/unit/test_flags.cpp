#include <catch2/catch.hpp>
#include <cstdlib>

#include "common/flags.hpp"

using namespace healthgate;

namespace {
std::vector<FlagSpec> specs(std::string& value, bool& on) {
    return {
        {"name", true, "HG_TEST_NAME", [&](std::string_view v) -> std::optional<std::string> {
             if (v == "bad") return std::string("bad value");
             value = std::string(v);
             return std::nullopt;
         }},
        {"verbose", false, "", [&](std::string_view v) -> std::optional<std::string> {
             on = v == "true";
             return std::nullopt;
         }},
    };
}
// The specs' environment flags while HG_TEST_NAME is `value`.
std::vector<FlagValue> env_with_name(const std::vector<FlagSpec>& s, const char* value) {
    ::setenv("HG_TEST_NAME", value, 1);
    auto env = env_flags(s);
    ::unsetenv("HG_TEST_NAME");
    return env;
}
}  // namespace

TEST_CASE("flags with separate and inline values, positionals and --", "[flags]") {
    std::string value;
    bool on = false;
    auto s = specs(value, on);
    auto parsed = parse_flags({"a", "--name", "x", "--verbose", "b", "--name=y", "--", "cmd", "--name"}, s, "test");
    REQUIRE(parsed.ok());
    CHECK(parsed->positionals == std::vector<std::string>{"a", "b"});
    CHECK(parsed->command == std::vector<std::string>{"cmd", "--name"});
    REQUIRE_FALSE(apply_flags(parsed->flags, "test"));
    CHECK(value == "y");
    CHECK(on);
}

TEST_CASE("flag errors name the flag", "[flags]") {
    std::string value;
    bool on = false;
    auto s = specs(value, on);
    CHECK_THAT(parse_flags({"--nope"}, s, "test").error(), Catch::Contains("unknown flag --nope"));
    CHECK_THAT(parse_flags({"-x"}, s, "test").error(), Catch::Contains("unknown flag -x"));
    CHECK_THAT(parse_flags({"--name"}, s, "test").error(), Catch::Contains("--name needs a value"));
    auto parsed = parse_flags({"--name", "bad"}, s, "test");
    REQUIRE(parsed.ok());
    CHECK(*apply_flags(parsed->flags, "test") == "test: --name: bad value");
}

TEST_CASE("flags from the environment", "[flags]") {
    std::string value;
    bool on = false;
    auto s = specs(value, on);
    auto env = env_with_name(s, "from-env");
    REQUIRE(env.size() == 1);
    CHECK(env[0].origin == "HG_TEST_NAME");
    REQUIRE_FALSE(apply_flags(env, "test"));
    CHECK(value == "from-env");
}

TEST_CASE("flag_value: the command line wins over the environment, the last flag over earlier ones", "[flags]") {
    std::string value;
    bool on = false;
    auto s = specs(value, on);
    auto env = env_with_name(s, "from-env");
    auto none = parse_flags({"--verbose"}, s, "test");
    REQUIRE(none.ok());
    CHECK(flag_value("name", env, none->flags) == std::optional<std::string>("from-env"));
    auto both = parse_flags({"--name", "first", "--name=second"}, s, "test");
    REQUIRE(both.ok());
    CHECK(flag_value("name", env, both->flags) == std::optional<std::string>("second"));
    CHECK_FALSE(flag_value("name", {}, none->flags));
    CHECK_FALSE(flag_value("other", env, both->flags));
    CHECK(value.empty());  // reading a value applies nothing
}
