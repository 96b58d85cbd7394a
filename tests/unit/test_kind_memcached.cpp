#include <catch2/catch.hpp>
#include <string>

#include "check/kinds/memcached.hpp"

using namespace healthgate::check;
using Verdict = ProtocolAnswer::Verdict;

TEST_CASE("memcached: the version answer", "[memcached]") {
    auto parse = [](const std::string& text) { return parse_memcached_version(as_bytes(text)); };
    CHECK(parse("VERSION 1.6.18\r\n").verdict == Verdict::ready);
    CHECK(parse("VERSION 1.6.18\r\n").text == "memcached 1.6.18");
    CHECK(parse("VERSION 1.6").verdict == Verdict::incomplete);
    CHECK(parse("SERVER_ERROR out of memory\r\n").verdict == Verdict::not_ready);
    CHECK(parse("ERROR\r\n").verdict == Verdict::not_ready);
    CHECK(parse("+PONG\r\n").verdict == Verdict::protocol_error);
    CHECK(parse(std::string(600, 'x')).verdict == Verdict::protocol_error);
}
