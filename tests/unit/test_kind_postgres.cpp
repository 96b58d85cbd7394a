#include <catch2/catch.hpp>
#include <string>

#include "check/kinds/postgres.hpp"
#include "common/target.hpp"

using namespace healthgate;
using namespace healthgate::check;
using Verdict = ProtocolAnswer::Verdict;

namespace {

std::string message(char type, const std::string& body) {
    std::string out(1, type);
    std::uint32_t length = static_cast<std::uint32_t>(body.size() + 4);
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((length >> shift) & 0xff);
    return out + body;
}

std::string error(const std::string& code, const std::string& text) {
    return message('E', std::string("SFATAL\0VFATAL\0C", 15) + code + std::string(1, '\0') + "M" + text +
                            std::string(2, '\0'));
}

ProtocolAnswer parse(const std::string& bytes) { return parse_postgres_reply(as_bytes(bytes)); }

}  // namespace

TEST_CASE("postgres: an authentication request is ready", "[postgres]") {
    auto sasl = parse(message('R', std::string("\0\0\0\x0aSCRAM-SHA-256\0\0", 19)));
    CHECK(sasl.verdict == Verdict::ready);
    CHECK_THAT(sasl.text, Catch::Contains("SCRAM"));
    CHECK(parse(message('R', std::string("\0\0\0\0", 4))).verdict == Verdict::ready);
    // a notice first, then the answer
    CHECK(parse(message('N', std::string("SNOTICE\0\0", 9)) + message('R', std::string("\0\0\0\x05salt", 8))).verdict ==
          Verdict::ready);
}

TEST_CASE("postgres: errors classified by SQLSTATE, always named", "[postgres]") {
    for (const char* code : {"28P01", "28000", "3D000"}) {
        auto answer = parse(error(code, "nope"));
        INFO(code);
        CHECK(answer.verdict == Verdict::ready);
        CHECK_THAT(answer.text, Catch::Contains(std::string(code) + " nope"));
    }
    for (const char* code : {"57P03", "53300", "57P01", "57P02", "08P01"}) {
        auto answer = parse(error(code, "the database system is starting up"));
        INFO(code);
        CHECK(answer.verdict == Verdict::not_ready);
        CHECK(answer.failure == Failure::server_not_ready);
        CHECK(answer.text == std::string(code) + " the database system is starting up");
    }
}

TEST_CASE("postgres: partial, foreign and malformed answers", "[postgres]") {
    std::string full = error("57P03", "starting");
    for (std::size_t n = 0; n < full.size(); ++n) CHECK(parse(full.substr(0, n)).verdict == Verdict::incomplete);
    CHECK(parse("HTTP/1.1 400 Bad Request\r\n").verdict == Verdict::protocol_error);
    CHECK(parse(message('E', std::string("Mno code\0\0", 10))).verdict == Verdict::protocol_error);
    CHECK(parse(message('E', "Cunterminated")).verdict == Verdict::protocol_error);
    CHECK(parse(std::string("R\xff\xff\xff\xff", 5)).verdict == Verdict::protocol_error);
    CHECK(parse(message('R', "")).verdict == Verdict::protocol_error);
    // control characters in the server's text do not reach the one-line reason
    auto odd = parse(error("57P03", "a\nb\x1b"));
    CHECK(odd.text.find('\n') == std::string::npos);
}

TEST_CASE("postgres: startup message and options", "[postgres]") {
    std::string startup = postgres_startup_message("u", "d");
    CHECK(startup.size() == static_cast<unsigned char>(startup[3]));
    CHECK(startup.find(std::string("user\0u\0database\0d\0", 18)) != std::string::npos);
    CHECK(postgres_ssl_request() == std::string("\0\0\0\x08\x04\xd2\x16\x2f", 8));
    auto t = parse_target("postgresql://db?sslmode=verify-full&ca=/ca.pem&user=app&database=app");
    REQUIRE(t.ok());
    CHECK(t->port == 5432);
    CHECK(t->kind->name == "postgres");
    auto bad = parse_target("postgres://db?sslmode=allow");
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.error(), Catch::Contains("option sslmode=\"allow\": expected disable, prefer, require or verify-full"));
    CHECK_THAT(parse_target("postgres://db?ca=/x").error(), Catch::Contains("sslmode=verify-full"));
    CHECK_THAT(parse_target("postgres://db?password=x").error(), Catch::Contains("does not apply to postgres://"));
}
