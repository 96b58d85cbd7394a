#include <catch2/catch.hpp>

#include "common/yaml_config.hpp"
#include "inject/yaml_out.hpp"

#include <fmt/format.h>

using namespace healthgate::inject;
using healthgate::load_all;

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

TEST_CASE("deep_copy resolves merge keys: own keys win, then the first merged map") {
    YAML::Node node = YAML::Load(
        "base: &base {image: app:1, cpu: 1, env: [{name: A, value: x}]}\n"
        "more: &more {cpu: 2, memory: 1Gi}\n"
        "one: {<<: *base, image: app:2}\n"
        "two: {<<: [*more, *base], name: two}\n"
        "quoted: {\"<<\": kept}\n");
    YAML::Node out = deep_copy(node);
    CHECK(emit_yaml_flow(out["one"]) == "{image: app:2, cpu: 1, env: [{name: A, value: x}]}");
    CHECK(emit_yaml_flow(out["two"]) == "{name: two, cpu: 2, memory: 1Gi, image: app:1, env: [{name: A, value: x}]}");
    CHECK(out["quoted"]["<<"].Scalar() == "kept");  // a quoted << is an ordinary key
}

TEST_CASE("deep_copy stops an alias bomb at its node budget") {
    std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 9; ++i) {
        text += fmt::format("a{}: &a{} [", i, i);
        for (int j = 0; j < 10; ++j) text += fmt::format("{}*a{}", j ? ", " : "", i - 1);
        text += "]\n";
    }
    YAML::Node node = YAML::Load(text);  // 10^9 nodes once expanded
    CHECK_THROWS_AS(deep_copy(node), TooManyNodes);
    CHECK_NOTHROW(deep_copy(node["a3"]));  // 11 111 nodes
}

TEST_CASE("load_all splits documents as LoadAll does, and returns where LoadAll hangs") {
    CHECK(load_all("a: 1\n---\nb: 2\n").size() == 2);
    CHECK(load_all("# head\n---\na: 1\n").size() == 1);
    CHECK(load_all("---\n---\na: 1\n").size() == 2);  // an empty document counts
    CHECK(load_all("a: 1\n...\nb: 2\n").size() == 2);
    CHECK(load_all("a: 1\n...\n---\nb: 2\n").size() == 2);
    CHECK(load_all("%YAML 1.2\n---\na: 1\n").size() == 1);
    CHECK(load_all("a: |\n  ---\n  x\n")[0]["a"].Scalar() == "---\nx\n");  // indented: not a marker
    std::vector<YAML::Node> docs = load_all("kind: A\n---\nkind: B\n--- \nkind: C\n");
    REQUIRE(docs.size() == 3);
    CHECK(docs[2]["kind"].Scalar() == "C");
    // An error's line counts in the whole text.
    try {
        load_all("a: 1\n---\nb: 2\nc: [\n");
        FAIL("no error");
    } catch (const YAML::ParserException& e) {
        CHECK(e.mark.line + 1 >= 4);
    }
    // Not UTF-8: an error at the byte (yaml-cpp would let it through, to come back as U+FFFD).
    try {
        load_all("a: 1\nb: x\xA5y\n");
        FAIL("no error");
    } catch (const YAML::ParserException& e) {
        CHECK(e.mark.line == 1);
        CHECK(e.mark.column == 4);
        CHECK(e.msg == "not valid UTF-8 (YAML is UTF-8 text)");
    }
    CHECK(load_all("a: caf\xC3\xA9\n")[0]["a"].Scalar() == "caf\xC3\xA9");
    CHECK_THROWS_WITH(load_all(std::string("a: 1\nb: \0N\n", 10)), Catch::Contains("control character U+0000"));
    CHECK_THROWS_WITH(load_all("a: \x1b[31m\n"), Catch::Contains("control character U+001B"));
    CHECK_NOTHROW(load_all("a: \"tab\there\"\r\nb: 2\n"));
    // Text after a document is an error, after any kind of root (yaml-cpp's
    // Load alone ignores it after a scalar, a flow collection, a block list).
    CHECK_THROWS_AS(load_all("a: 1\n\"x\", y\n"), YAML::Exception);
    CHECK_THROWS_AS(load_all("- a\n- b\n'x' z\n"), YAML::Exception);
    CHECK_THROWS_AS(load_all("a: 1\n]]\n"), YAML::Exception);
    CHECK_THROWS_AS(load_all("{a: 1} b\n"), YAML::Exception);
    // yaml-cpp 0.7's LoadAll never returns on this (found by fuzz_serve_config).
    CHECK_THROWS_AS(load_all("\", targettp:/27.0.0.1:1/#bogus=1\", probes\xce bes\xce [readines - {s]}?"),
                    YAML::Exception);
}

TEST_CASE("multi-line strings a literal block cannot hold are double-quoted, and read back the same") {
    for (const char* text : {"  indented first\nline\n", "no final break\nhere", "two breaks\n\n", "a\r\nb\n",
                             "\n  leading blank then indent\n", "tab\there\nok\n", "plain\nlines\n"}) {
        YAML::Node node(YAML::NodeType::Map);
        node["k"] = string_node(text);
        node["k"].SetTag("!");
        std::string out = emit_yaml(node);
        CHECK(YAML::Load(out)["k"].Scalar() == text);
    }
    YAML::Node plain(YAML::NodeType::Map);
    plain["k"] = string_node("x: 1\ny: 2\n");
    plain["k"].SetTag("!");
    CHECK(emit_yaml(plain) == "k: |\n  x: 1\n  y: 2\n");
}
