#include <catch2/catch.hpp>

#include "common/duration.hpp"

using namespace healthgate;

TEST_CASE("durations parse with units", "[duration]") {
    CHECK(parse_duration("250ms")->count() == 250);
    CHECK(parse_duration("2s")->count() == 2000);
    CHECK(parse_duration("1m30s")->count() == 90'000);
    CHECK(parse_duration("1.5s")->count() == 1500);
    CHECK(parse_duration("1h")->count() == 3'600'000);
    CHECK(parse_duration("0")->count() == 0);
}

TEST_CASE("bad durations name the problem", "[duration]") {
    for (const char* bad : {"", "5", "5x", "s", "1..5s", "-1s", "1s2", ".s", "99999999999h"}) {
        auto d = parse_duration(bad);
        INFO(bad);
        REQUIRE_FALSE(d.ok());
        CHECK(d.error().find("invalid duration") != std::string::npos);
    }
    CHECK(parse_duration("5").error().find("missing unit") != std::string::npos);
    CHECK(parse_duration("5d").error().find("unknown unit \"d\"") != std::string::npos);
}

TEST_CASE("durations format short", "[duration]") {
    CHECK(format_duration(Duration{250}) == "250ms");
    CHECK(format_duration(Duration{2100}) == "2.1s");
    CHECK(format_duration(Duration{184'000}) == "3m04s");
    CHECK(format_duration(Duration{3'720'000}) == "1h02m");
}
