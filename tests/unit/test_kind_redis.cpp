#include <catch2/catch.hpp>
#include <string>

#include "check/kinds/redis.hpp"
#include "common/target.hpp"

using namespace healthgate;
using namespace healthgate::check;
using Verdict = ProtocolAnswer::Verdict;

namespace {
ProtocolAnswer parse(const std::string& bytes, bool password = false, std::string_view role = "") {
    return parse_redis_replies(as_bytes(bytes), password, role);
}
}  // namespace

TEST_CASE("redis: RESP replies", "[redis]") {
    std::string bulk = "$11\r\nrole:master\r\n";
    auto reply = parse_resp_reply(as_bytes(bulk));
    CHECK(reply.complete);
    CHECK(reply.text == "role:master");
    CHECK(reply.consumed == bulk.size());
    for (std::size_t n = 0; n < bulk.size(); ++n) CHECK_FALSE(parse_resp_reply(as_bytes(bulk.substr(0, n))).complete);
    CHECK(parse_resp_reply(as_bytes(std::string("$-1\r\n"))).complete);
    CHECK(parse_resp_reply(as_bytes(std::string("$99999999999\r\n"))).malformed);
    CHECK(parse_resp_reply(as_bytes(std::string("$3\r\nabcXY"))).malformed);
    CHECK(parse_resp_reply(as_bytes(std::string("HTTP/1.1"))).malformed);
}

TEST_CASE("redis: PONG, auth demands and not-ready states", "[redis]") {
    CHECK(parse("+PONG\r\n").verdict == Verdict::ready);
    CHECK(parse("+PONG").verdict == Verdict::incomplete);
    CHECK(parse("-NOAUTH Authentication required.\r\n").verdict == Verdict::ready);
    CHECK(parse("-WRONGPASS invalid username-password pair\r\n").verdict == Verdict::ready);
    auto refused = parse("-WRONGPASS invalid username-password pair\r\n", true);
    CHECK(refused.verdict == Verdict::not_ready);
    CHECK_THAT(refused.text, Catch::Contains("AUTH refused the password"));
    CHECK(parse("+OK\r\n+PONG\r\n", true).verdict == Verdict::ready);
    for (const char* state : {"LOADING Redis is loading the dataset in memory", "MASTERDOWN Link with MASTER is down",
                              "BUSY Redis is busy running a script"}) {
        auto answer = parse(std::string("-") + state + "\r\n");
        INFO(state);
        CHECK(answer.verdict == Verdict::not_ready);
        CHECK(answer.failure == Failure::server_not_ready);
        CHECK_THAT(answer.text, Catch::Contains(state));
    }
    CHECK(parse("+OK\r\n").verdict == Verdict::protocol_error);
    CHECK(parse("SSH-2.0-OpenSSH\r\n").verdict == Verdict::protocol_error);
}

TEST_CASE("redis: role from INFO replication", "[redis]") {
    std::string info = "# Replication\r\nrole:slave\r\nmaster_host:x\r\n";
    std::string replies = "+PONG\r\n$" + std::to_string(info.size()) + "\r\n" + info + "\r\n";
    CHECK(parse(replies, false, "replica").verdict == Verdict::ready);
    auto wrong = parse(replies, false, "master");
    CHECK(wrong.verdict == Verdict::not_ready);
    CHECK(wrong.text == "role is replica, want master");
}

TEST_CASE("redis: requests and options; the password is never shown", "[redis]") {
    CHECK(redis_request("", false) == "*1\r\n$4\r\nPING\r\n");
    CHECK(redis_request("pw", true) == "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n");
    auto t = parse_target("rediss://cache?password=s3cret&role=master&ca=/ca.pem");
    REQUIRE(t.ok());
    CHECK(t->port == 6379);
    CHECK(t->name == "rediss://cache");
    auto bad = parse_target("redis://cache?password=s3cret&role=leader");
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.error(), Catch::Contains("expected master or replica"));
    CHECK_THAT(bad.error(), !Catch::Contains("s3cret"));
    auto long_password = parse_target("redis://cache?password=" + std::string(2000, 'p'));
    REQUIRE_FALSE(long_password.ok());
    CHECK_THAT(long_password.error(), Catch::Contains("option password=<secret>"));
    CHECK_THAT(long_password.error(), !Catch::Contains("ppp"));
}
