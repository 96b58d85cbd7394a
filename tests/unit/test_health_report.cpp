#include <catch2/catch.hpp>

#include "probe/health_report.hpp"

using namespace healthgate::probe;

TEST_CASE("lines in the apiserver's style", "[health_report]") {
    CHECK(format_line("db", true, "ignored") == "[+]db ok");
    CHECK(format_line("db", false, "connection refused") == "[-]db failed: connection refused");
    CHECK(format_line("db", false, "") == "[-]db failed: unknown reason");
    // A reason is one line, whatever the checker saw.
    CHECK(format_line("web", false, "status 500\r\nbody: oops\tx") == "[-]web failed: status 500  body: oops x");
}

TEST_CASE("one_line caps the length at a UTF-8 boundary and repairs bad bytes", "[health_report]") {
    std::string long_reason(2000, 'x');
    std::string cut = one_line(long_reason);
    CHECK(cut.size() == k_reason_max);
    CHECK(cut.substr(cut.size() - 3) == "...");
    std::string accents;
    for (int i = 0; i < 400; ++i) accents += "\xc3\xa9";  // é
    std::string cut_accents = one_line(accents, 101);
    CHECK(cut_accents.size() <= 101);
    CHECK(cut_accents.substr(cut_accents.size() - 3) == "...");
    CHECK(cut_accents.substr(0, 2) == "\xc3\xa9");
    CHECK((cut_accents.size() - 3) % 2 == 0);  // never half a character
    CHECK(one_line("bad \xff byte") == "bad \xef\xbf\xbd byte");
}

TEST_CASE("probe output: one line per target, in order", "[health_report]") {
    std::vector<ProbeLine> lines = {
        {"http://127.0.0.1:8080/healthz", true, ""},
        {"tcp://127.0.0.1:5432", false, "connection refused: connect 127.0.0.1:5432: connection refused"},
    };
    CHECK(format_probe_output(lines) ==
          "[+]http://127.0.0.1:8080/healthz ok\n"
          "[-]tcp://127.0.0.1:5432 failed: connection refused: connect 127.0.0.1:5432: connection refused\n");
}

TEST_CASE("probe output stays under the limit and keeps the failures", "[health_report]") {
    std::vector<ProbeLine> lines;
    for (int i = 0; i < 200; ++i) {
        lines.push_back({"tcp://ok-" + std::to_string(i) + ":1", true, ""});
        lines.push_back({"tcp://bad-" + std::to_string(i) + ":1", false, std::string(300, 'r')});
    }
    std::string out = format_probe_output(lines);
    CHECK(out.size() <= k_probe_output_max);
    CHECK(out.size() < 10 * 1024);
    CHECK_THAT(out, Catch::StartsWith("[-]tcp://bad-0:1 failed: rrr"));
    CHECK_THAT(out, Catch::Contains("more failed\n[+]200 more ok\n"));
    CHECK(out.find("[+]tcp://ok-") == std::string::npos);
    CHECK(out.back() == '\n');

    // Passes only: summarised into one line when too many.
    std::vector<ProbeLine> passes;
    for (int i = 0; i < 1000; ++i) passes.push_back({"tcp://service-" + std::to_string(i) + ".example:1", true, ""});
    CHECK(format_probe_output(passes) == "[+]1000 more ok\n");

    // A tight limit still gives valid, bounded output.
    std::string tiny = format_probe_output(lines, 40);
    CHECK(tiny.size() <= 40);
}

TEST_CASE("RFC 3339 timestamps in UTC with milliseconds", "[health_report]") {
    using namespace std::chrono;
    system_clock::time_point t{milliseconds{1767323045678}};  // 2026-01-02T03:04:05.678Z
    CHECK(format_rfc3339(t) == "2026-01-02T03:04:05.678Z");
}
