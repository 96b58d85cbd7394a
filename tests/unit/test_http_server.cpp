#include <catch2/catch.hpp>

#include "probe/http_server.hpp"

using namespace healthgate::probe;

TEST_CASE("the session cap leaves descriptors for the checks under RLIMIT_NOFILE", "[http_server]") {
    CHECK(session_cap(512, 1'048'576) == 512);
    CHECK(session_cap(512, 1024) == 512);
    CHECK(session_cap(512, 256) == 192);  // 64 kept for the checks, the listener, c-ares, the log
    CHECK(session_cap(512, 100) == 50);   // a tiny limit: half of it
    CHECK(session_cap(512, 1) == 1);
}

TEST_CASE("serve's deadlines for a request's first bytes and headers are short", "[http_server]") {
    ServerLimits limits;
    CHECK(limits.first_bytes_timeout < limits.read_timeout);
    CHECK(limits.header_timeout < limits.read_timeout);
    CHECK(limits.max_sessions == 512);
}
