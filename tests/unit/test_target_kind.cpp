#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

#include "common/target.hpp"
#include "common/target_kind.hpp"

using namespace healthgate;

TEST_CASE("every kind's table is complete and its schemes are unique", "[target_kind]") {
    std::set<std::string_view> schemes;
    for (const TargetKind* kind : target_kinds()) {
        INFO(kind->name);
        CHECK(schemes.insert(kind->name).second);
        if (!kind->alias.empty()) CHECK(schemes.insert(kind->alias).second);
        CHECK(kind->attempt != nullptr);
        CHECK_FALSE(kind->form.empty());
        CHECK_FALSE(kind->ready_when.empty());
        CHECK(find_target_kind(kind->name) == kind);
        std::set<std::string_view> names = {"name", "timeout"};
        for (const OptionSpec& option : kind->options) {
            INFO(option.name);
            CHECK(names.insert(option.name).second);
            CHECK(option.apply != nullptr);
            CHECK_FALSE(option.help.empty());
            CHECK(option.help.find('\n') == std::string_view::npos);
            CHECK(kind->make_options != nullptr);
        }
    }
}

TEST_CASE("the README's option table is the one generated from the kinds' tables", "[target_kind]") {
    std::ifstream in(HEALTHGATE_SOURCE_DIR "/README.md");
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    std::string table = target_options_markdown();
    bool found = text.str().find(table) != std::string::npos;
    if (!found) std::ofstream("README.options.md") << table;  // to paste into README.md
    INFO("README.md must contain the table generated from check/kinds/*.cpp (written to README.options.md):\n" << table);
    CHECK(found);
}

TEST_CASE("wait --help lists every kind and option from the tables", "[target_kind]") {
    std::string help = target_kinds_help();
    for (const TargetKind* kind : target_kinds()) {
        CHECK_THAT(help, Catch::Contains(std::string(kind->form)));
        for (const OptionSpec& option : kind->options) {
            CHECK_THAT(help, Catch::Contains(fmt::format(" {}=", option.name)));
        }
    }
    std::istringstream lines(help);
    for (std::string line; std::getline(lines, line);) {
        INFO(line);
        CHECK(line.size() <= 100);
    }
}

TEST_CASE("secret option values are never echoed", "[target_kind]") {
    auto bad = parse_target("http://h/#header=Authorization:%20Bearer%0As3cret");
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.error(), Catch::Contains("option header=<secret>: line break"));
    CHECK_THAT(bad.error(), !Catch::Contains("s3cret"));
    CHECK(redact_target_url("http://h/x?a=1#header=X:%20s3cret&status=200") ==
          "http://h/x?a=1#header=<secret>&status=200");
}

TEST_CASE("option errors are one bounded line", "[target_kind]") {
    std::string huge(5000, 'x');
    auto bad = parse_target("tcp://h:1?" + huge + "=1");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().size() < 1200);
    auto control = parse_target("http://h/#method=G%0AT");
    REQUIRE_FALSE(control.ok());
    CHECK(control.error().find('\n') == std::string::npos);
}
