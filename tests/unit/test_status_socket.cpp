#include <catch2/catch.hpp>

#include "probe/status_socket.hpp"
#include "probe_fixtures.hpp"

using namespace healthgate::probe;
using namespace probe_fixtures;

TEST_CASE("the socket answers an endpoint's status and its [+]/[-] lines, verbose", "[status_socket]") {
    std::vector<GroupEntry> groups{{"", {entry("app", {ProbeKind::liveness, ProbeKind::readiness}),
                                         entry("db", {ProbeKind::readiness})}},
                                   {"api", {entry("q", {ProbeKind::readiness})}}};
    groups[0].checks[0].state.record(ok(), k_t0);
    groups[0].checks[1].state.record(refused(), k_t0);
    groups[1].checks[0].state.record(ok(), k_t0);
    Snapshot snapshot{&groups, k_t0 + 10ms, {}, false};
    CHECK(status_answer("readyz\n", snapshot) ==
          "503\n[+]app ok\n[-]db failed: connection refused: connect 10.0.0.5:5432: refused\nreadyz check failed\n");
    CHECK(status_answer("/livez", snapshot) == "200\n[+]app ok\nlivez check passed\n");
    CHECK(status_answer("/api/readyz\r\n", snapshot) == "200\n[+]q ok\nreadyz check passed\n");
    CHECK(status_answer("/readyz?exclude=db", snapshot).starts_with("200\n"));
    CHECK(status_answer("", snapshot).starts_with("400\n"));
    CHECK(status_answer("GET /readyz HTTP/1.1", snapshot).starts_with("400\n"));
}
