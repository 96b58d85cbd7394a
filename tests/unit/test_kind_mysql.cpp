#include <catch2/catch.hpp>
#include <string>

#include "check/kinds/mysql.hpp"

using namespace healthgate::check;
using Verdict = ProtocolAnswer::Verdict;

namespace {
std::string packet(const std::string& payload, char sequence = 0) {
    std::string out;
    for (int i = 0; i < 3; ++i) out += static_cast<char>((payload.size() >> (8 * i)) & 0xff);
    return out + sequence + payload;
}
}  // namespace

TEST_CASE("mysql: greeting and error packets", "[mysql]") {
    std::string greeting = packet(std::string("\x0a" "10.11.4-MariaDB\0\x01\0\0\0abcdefgh\0", 30));
    auto ready = parse_mysql_greeting(as_bytes(greeting));
    CHECK(ready.verdict == Verdict::ready);
    CHECK(ready.text == "server 10.11.4-MariaDB");
    CHECK(ready.consumed == greeting.size());
    for (std::size_t n = 0; n < greeting.size(); ++n) {
        CHECK(parse_mysql_greeting(as_bytes(greeting.substr(0, n))).verdict == Verdict::incomplete);
    }
    auto busy = parse_mysql_greeting(as_bytes(packet(std::string("\xff\x10\x04Too many connections", 23))));
    CHECK(busy.verdict == Verdict::not_ready);
    CHECK(busy.text == "1040 Too many connections");
    auto blocked = parse_mysql_greeting(as_bytes(packet(std::string("\xff\x69\x04#HY000Host 'x' is blocked", 28))));
    CHECK(blocked.text == "1129 Host 'x' is blocked");
    auto not_allowed = parse_mysql_greeting(as_bytes(packet(std::string("\xff\x6a\x04Host 'x' is not allowed", 26))));
    CHECK(not_allowed.verdict == Verdict::ready);
    CHECK_THAT(not_allowed.text, Catch::Contains("1130 Host 'x' is not allowed"));
    CHECK(parse_mysql_greeting(as_bytes(std::string("HTTP/1.1 400"))).verdict == Verdict::protocol_error);
    CHECK(parse_mysql_greeting(as_bytes(packet("\x09old"))).verdict == Verdict::protocol_error);
}

TEST_CASE("mysql: the login answer", "[mysql]") {
    auto denied = parse_mysql_login_reply(as_bytes(packet(std::string("\xff\x15\x04#28000Access denied", 22), 2)));
    CHECK(denied.verdict == Verdict::ready);
    CHECK_THAT(denied.text, Catch::Contains("1045 Access denied"));
    CHECK(parse_mysql_login_reply(as_bytes(packet(std::string("\0\0\0\x02\0\0\0", 7), 2))).verdict == Verdict::ready);
    CHECK(parse_mysql_login_reply(as_bytes(packet(std::string("\xfe" "caching_sha2_password\0", 23), 2))).verdict ==
          Verdict::ready);
    CHECK(parse_mysql_login_reply(as_bytes(packet(std::string("\xff\x10\x04Too many", 11), 2))).verdict ==
          Verdict::not_ready);
    std::string login = mysql_login_request("healthgate");
    CHECK(static_cast<std::size_t>(login[0]) + 4 == login.size());
    CHECK(login[3] == 1);
    CHECK(login.find(std::string("healthgate\0\0mysql_native_password\0", 34)) != std::string::npos);
}
