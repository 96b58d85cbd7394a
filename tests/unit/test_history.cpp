#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include "sidecar/history.hpp"

using namespace healthgate::sidecar;

TEST_CASE("history: format and parse round trip") {
    std::vector<RunRecord> records = {
        {1000, 44000, 536870000, 536870912, "OOMKilled"},
        {50000, 52100, std::nullopt, std::nullopt, "exit 1"},
        {60000, 61000, 1024, std::nullopt, "running"},
    };
    std::string text = format_history(records);
    CHECK(text == "v1 1000 44000 536870000 536870912 OOMKilled\nv1 50000 52100 - - exit 1\nv1 60000 61000 1024 - running\n");
    CHECK(parse_history(text) == records);
}

TEST_CASE("history: bounded to the newest records") {
    std::vector<RunRecord> records;
    for (int i = 0; i < 25; ++i) records.push_back({i * 1000, i * 1000 + 10, std::nullopt, std::nullopt, "exit " + std::to_string(i)});
    auto parsed = parse_history(format_history(records));
    REQUIRE(parsed.size() == k_history_max_records);
    CHECK(parsed.front().outcome == "exit 15");
    CHECK(parsed.back().outcome == "exit 24");
}

TEST_CASE("history: torn or foreign lines are skipped, outcomes kept on one short line") {
    auto parsed = parse_history("garbage\nv1 1 2 - - exit 3\nv1 x 2 - - exit 4\nv2 1 2 - - new\nv1 5 6 - -\nv1 7 8 - - \xff bad\n");
    REQUIRE(parsed.size() == 2);
    CHECK(parsed[0].outcome == "exit 3");
    CHECK(parsed[1].outcome == "\xEF\xBF\xBD bad");
    std::vector<RunRecord> odd = {{1, 2, std::nullopt, std::nullopt, "line\nbreak " + std::string(300, 'x')}};
    std::string text = format_history(odd);
    CHECK(std::count(text.begin(), text.end(), '\n') == 1);
    CHECK(text.size() < 120);
}

TEST_CASE("history: a run without a final record reads as killed") {
    RunRecord near_limit{0, 1, 510u << 20, 512u << 20, "running"};
    CHECK(display_outcome(near_limit) == "killed at 99% of limit, no final record");
    RunRecord unknown{0, 1, std::nullopt, std::nullopt, "running"};
    CHECK(display_outcome(unknown) == "killed, no final record");
    RunRecord done{0, 1, std::nullopt, std::nullopt, "exit 1"};
    CHECK(display_outcome(done) == "exit 1");
}

TEST_CASE("history: the verdict phrase") {
    std::vector<RunRecord> previous = {
        {0, 10'000, std::nullopt, std::nullopt, "exit 1"},
        {100'000, 143'000, std::nullopt, std::nullopt, "OOMKilled"},
        {200'000, 243'000, std::nullopt, std::nullopt, "OOMKilled"},
    };
    auto summary = summarize_history(previous, 364'000);
    CHECK(summary.exits == 4);
    CHECK(summary.span == healthgate::Duration{364'000});
    CHECK(history_phrase(summary) == "4th exit in 6m04s; previous: OOMKilled, OOMKilled, exit 1");
    CHECK(history_phrase(summarize_history({}, 5)) == "");
    std::vector<RunRecord> many(6, RunRecord{0, 1, std::nullopt, std::nullopt, "exit 2"});
    CHECK(summarize_history(many, 1000).previous.size() == 3);
}

TEST_CASE("ordinals") {
    CHECK(ordinal(1) == "1st");
    CHECK(ordinal(2) == "2nd");
    CHECK(ordinal(3) == "3rd");
    CHECK(ordinal(4) == "4th");
    CHECK(ordinal(11) == "11th");
    CHECK(ordinal(12) == "12th");
    CHECK(ordinal(13) == "13th");
    CHECK(ordinal(21) == "21st");
    CHECK(ordinal(102) == "102nd");
    CHECK(ordinal(111) == "111th");
}

TEST_CASE("history: save and load through a real directory") {
    char dir_template[] = "/tmp/hg-history-XXXXXX";
    REQUIRE(::mkdtemp(dir_template) != nullptr);
    std::string dir = dir_template;
    CHECK(load_history(dir).empty());
    std::vector<RunRecord> records = {{1, 2, 3, 4, "exit 1"}};
    CHECK_FALSE(save_history(dir, records).has_value());
    CHECK(load_history(dir) == records);
    CHECK_FALSE(save_history(dir + "/new", records).has_value());  // one level is made on first use
    CHECK(load_history(dir + "/new") == records);
    CHECK_THAT(*save_history(dir + "/missing/deeper", records), Catch::Contains("mkdir"));
    std::filesystem::remove_all(dir);
}
