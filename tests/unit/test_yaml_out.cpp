#include <catch2/catch.hpp>

#include "inject/yaml_out.hpp"

using namespace healthgate::inject;

// Loose on purpose: quoting a string that did not need it is harmless.
TEST_CASE("plain scalars that a YAML reader would not read back as strings are detected") {
    for (const char* text : {"8080", "010", "1.5", "-3", "0x1F", "1e3", "1:30", "true", "False", "yes", "on", "N",
                             "null", "~", ""}) {
        CHECK(plain_reads_as_non_string(text));
    }
    for (const char* text : {"/app/orders", "--port", "v1", "8080/tcp", "daemon off;", "10.0.0.0/8", "onwards"}) {
        CHECK_FALSE(plain_reads_as_non_string(text));
    }
}

TEST_CASE("a quoted number stays a string and an unquoted one a number") {
    YAML::Node node = YAML::Load("args: [\"8080\", 'true', plain]\nport: 8080\n");
    std::string out = emit_yaml(node);
    CHECK(out == "args: [\"8080\", \"true\", plain]\nport: 8080\n");
    YAML::Node back = YAML::Load(out);
    CHECK(back["args"][0].Tag() == "!");
    CHECK(back["port"].Tag() == "?");
}

TEST_CASE("multi-line strings are written as literal blocks, flow output stays on one line") {
    YAML::Node node = YAML::Load("data:\n  a.yaml: |\n    x: 1\n    y: 2\n");
    CHECK(emit_yaml(node) == "data:\n  a.yaml: |\n    x: 1\n    y: 2\n");
    CHECK(emit_yaml_flow(YAML::Load("{a: [1, \"2\"], b: ~}")) == "{a: [1, \"2\"], b: ~}");
}

TEST_CASE("deep_copy shares nothing with the original, aliases included") {
    YAML::Node node = YAML::Load("a: &x [1, 2]\nb: *x\n");
    YAML::Node copy = deep_copy(node);
    copy["a"].push_back(3);
    CHECK(copy["a"].size() == 3);
    CHECK(copy["b"].size() == 2);
    CHECK(node["a"].size() == 2);
}

TEST_CASE("string_node marks only the strings that need quotes") {
    CHECK(string_node("8081").Tag() == "!");
    CHECK(string_node("/hg/healthgate").Tag() != "!");
    CHECK(emit_yaml(string_node("")) == "\"\"\n");
}

TEST_CASE("strings that are not valid plain scalars are quoted, in block and flow style") {
    YAML::Node node = YAML::Load("a: [\":8081\", \"x, y\", \"- z\"]\nb: \":8081\"\n");
    CHECK(emit_yaml(node) == "a: [\":8081\", \"x, y\", \"- z\"]\nb: \":8081\"\n");
    CHECK(emit_yaml_flow(YAML::Load("{c: [\"x,y\"]}")) == "{c: [\"x,y\"]}");
}
