#include <catch2/catch.hpp>

#include "common/log.hpp"

using namespace healthgate;

TEST_CASE("text log lines quote values that need it", "[log]") {
    CHECK(log::compose(log::Format::text, log::Level::info, "", "target ready", {{"target", "db"}, {"reason", "a b"}}) ==
          "info  target ready target=db reason=\"a b\"");
}

TEST_CASE("json log lines are valid, escaped JSON", "[log]") {
    CHECK(log::compose(log::Format::json, log::Level::warn, "T", "say \"hi\"", {{"k", "v\n"}}) ==
          R"({"time":"T","level":"warn","msg":"say \"hi\"","k":"v\n"})");
}

TEST_CASE("log format and level parsing", "[log]") {
    CHECK(*log::parse_format("json") == log::Format::json);
    CHECK_THAT(log::parse_format("xml").error(), Catch::Contains("\"xml\""));
    CHECK(*log::parse_level("debug") == log::Level::debug);
    CHECK_FALSE(log::parse_level("loud").ok());
}
