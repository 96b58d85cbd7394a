#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "check/http_rules.hpp"
#include "common/yaml_config.hpp"
#include "temp_file.hpp"

using namespace healthgate;

TEST_CASE("yaml targets: URL strings and maps with options", "[yaml]") {
    std::string path = write_temp_file(
        "targets:\n"
        "  - tcp://db:5432\n"
        "  - url: http://api/healthz\n"
        "    status: 200-299\n"
        "    header: [\"A: 1\", \"B: 2\"]\n");
    auto root = load_yaml_file(path);
    REQUIRE(root.ok());
    auto first = yaml_target(path, (*root)["targets"][0]);
    REQUIRE(first.ok());
    CHECK(first->port == 5432);
    auto second = yaml_target(path, (*root)["targets"][1]);
    REQUIRE(second.ok());
    CHECK(second->options_as<check::HttpOptions>().headers.size() == 2);
    CHECK_FALSE(second->options_as<check::HttpOptions>().statuses.contains(302));
    std::remove(path.c_str());
}

TEST_CASE("yaml errors carry file:line", "[yaml]") {
    std::string path = write_temp_file(
        "targets:\n"
        "  - tcp://db:5432\n"
        "  - url: http://api/healthz\n"
        "    status: nope\n");
    auto root = load_yaml_file(path);
    REQUIRE(root.ok());
    auto bad = yaml_target(path, (*root)["targets"][1]);
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.error(), Catch::StartsWith(path + ":4: ") && Catch::Contains("status"));
    std::remove(path.c_str());

    std::string broken = write_temp_file("targets: [tcp://a:1\n  x: :\n");
    auto syntax = load_yaml_file(broken);
    REQUIRE_FALSE(syntax.ok());
    CHECK_THAT(syntax.error(), Catch::StartsWith(broken + ":") && Catch::Contains("YAML syntax error"));
    std::remove(broken.c_str());

    CHECK_THAT(load_yaml_file("/nonexistent.yaml").error(), Catch::Contains("cannot open"));
    std::string list = write_temp_file("- a\n- b\n");
    CHECK_THAT(load_yaml_file(list).error(), Catch::Contains(":1: expected a map"));
    std::remove(list.c_str());
}
