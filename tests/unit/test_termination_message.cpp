#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "common/termination_message.hpp"
#include "common/text.hpp"

using namespace healthgate;

TEST_CASE("fit_message keeps whole lines, most important first", "[termination]") {
    std::vector<std::string> lines = {"verdict", std::string(50, 'a'), std::string(50, 'b')};
    CHECK(fit_message(lines, 1000) == "verdict\n" + std::string(50, 'a') + "\n" + std::string(50, 'b'));
    CHECK(fit_message(lines, 70) == "verdict\n" + std::string(50, 'a'));
    CHECK(fit_message(lines, 7) == "verdict");
}

TEST_CASE("fit_message cuts an oversized first line at a character boundary", "[termination]") {
    std::string euro = "\xE2\x82\xAC";
    std::string line;
    for (int i = 0; i < 2000; ++i) line += euro;  // 6000 bytes
    std::string out = fit_message({line}, 4096);
    CHECK(out.size() <= 4096);
    CHECK(out.size() % 3 == 0);
    CHECK(utf8_sanitize(out) == out);
}

TEST_CASE("fit_message makes invalid UTF-8 valid and stays under the limit", "[termination]") {
    std::string out = fit_message({std::string(5000, '\xFF')}, 4096);
    CHECK(out.size() <= 4096);
    CHECK(utf8_sanitize(out) == out);
}

TEST_CASE("the termination log is rewritten in place", "[termination]") {
    char path[] = "/tmp/hg-termlog-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    REQUIRE_FALSE(write_termination_message(path, "a much longer first message"));
    REQUIRE_FALSE(write_termination_message(path, "short"));
    std::ifstream in(path);
    std::stringstream content;
    content << in.rdbuf();
    CHECK(content.str() == "short");
    std::remove(path);
    CHECK(write_termination_message("/nonexistent-dir/x", "m")->find("open /nonexistent-dir/x") == 0);
}

TEST_CASE("termination log path resolution", "[termination]") {
    CHECK(resolve_termination_log(std::string("none")) == std::nullopt);
    CHECK(resolve_termination_log(std::string("/tmp/x")) == std::string("/tmp/x"));
}
