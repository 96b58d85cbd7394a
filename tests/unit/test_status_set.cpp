#include <catch2/catch.hpp>

#include "common/status_set.hpp"

using namespace healthgate;

TEST_CASE("default status set is the kubelet's 200-399", "[status]") {
    StatusSet set;
    CHECK(set.contains(200));
    CHECK(set.contains(302));
    CHECK(set.contains(399));
    CHECK_FALSE(set.contains(199));
    CHECK_FALSE(set.contains(400));
    CHECK_FALSE(set.contains(503));
}

TEST_CASE("status lists and ranges", "[status]") {
    auto set = StatusSet::parse("200, 204,300-302");
    REQUIRE(set.ok());
    CHECK(set->contains(204));
    CHECK(set->contains(301));
    CHECK_FALSE(set->contains(201));
    CHECK(set->to_string() == "200,204,300-302");
}

TEST_CASE("bad status sets are rejected", "[status]") {
    for (const char* bad : {"", "abc", "99", "600", "200-", "-200", "300-200", "200,,204", "2OO"}) {
        INFO(bad);
        CHECK_FALSE(StatusSet::parse(bad).ok());
    }
    CHECK(StatusSet::parse("300-200").error().find("greater") != std::string::npos);
}
