#include <catch2/catch.hpp>
#include <string>

#include "check/kinds/amqp.hpp"

using namespace healthgate::check;
using Verdict = ProtocolAnswer::Verdict;

namespace {
std::string be32(std::size_t v) {
    std::string out;
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
    return out;
}
std::string field(const std::string& name, const std::string& value) {
    return std::string(1, static_cast<char>(name.size())) + name + "S" + be32(value.size()) + value;
}
std::string start_frame(const std::string& table) {
    std::string payload = std::string("\0\x0a\0\x0a\0\x09", 6) + be32(table.size()) + table + be32(5) + "PLAIN" +
                          be32(5) + "en_US";
    return std::string("\x01\0\0", 3) + be32(payload.size()) + payload + "\xce";
}
}  // namespace

TEST_CASE("amqp: Connection.Start names the server", "[amqp]") {
    std::string capabilities = std::string("\x0c" "capabilities" "F", 14) + be32(6) + std::string("\x01x\x74\x01", 4) + "ab";
    std::string frame = start_frame(capabilities + field("product", "RabbitMQ") + field("version", "3.10.8"));
    auto answer = parse_amqp_start(as_bytes(frame));
    CHECK(answer.verdict == Verdict::ready);
    CHECK(answer.text == "RabbitMQ 3.10.8");
    for (std::size_t n = 0; n < frame.size(); ++n) {
        CHECK(parse_amqp_start(as_bytes(frame.substr(0, n))).verdict == Verdict::incomplete);
    }
    CHECK(parse_amqp_start(as_bytes(start_frame(std::string("\x01q?", 3)))).text == "an AMQP 0-9-1 server");
}

TEST_CASE("amqp: other protocol versions and foreign answers", "[amqp]") {
    auto other = parse_amqp_start(as_bytes(std::string("AMQP\0\x01\0\0", 8)));
    CHECK(other.verdict == Verdict::protocol_error);
    CHECK_THAT(other.text, Catch::Contains("AMQP 1-0-0"));
    CHECK(parse_amqp_start(as_bytes(std::string("HTTP/1.1 400"))).verdict == Verdict::protocol_error);
    std::string frame = start_frame("");
    frame.back() = 'x';
    CHECK(parse_amqp_start(as_bytes(frame)).verdict == Verdict::protocol_error);
}
