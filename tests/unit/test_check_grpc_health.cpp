#include <catch2/catch.hpp>

#include "check/grpc_health.hpp"

using namespace healthgate::check::grpc;
using namespace std::string_literals;

TEST_CASE("a HealthCheckRequest is field 1 as a string, empty for the whole server") {
    CHECK(encode_check_request("") == "");
    CHECK(encode_check_request("db") == "\x0a\x02" "db"s);
    std::string long_name(200, 'x');
    CHECK(encode_check_request(long_name) == "\x0a\xc8\x01"s + long_name);  // varint 200
}

TEST_CASE("gRPC frames: a zero flag, a big-endian length, the message") {
    CHECK(frame_message("") == std::string(5, '\0'));
    CHECK(frame_message("ab") == "\0\0\0\0\x02"s "ab"s);
    auto round = unframe_message(frame_message("\x08\x01"s));
    REQUIRE(round);
    CHECK(*round == "\x08\x01"s);
    CHECK(unframe_message("")  .error() == "no response message");
    CHECK(unframe_message("\0\0\0"s).error() == "truncated gRPC message");
    CHECK(unframe_message("\0\0\0\0\x05" "ab"s).error() == "truncated gRPC message");
    CHECK(unframe_message("\x01\0\0\0\x01" "a"s).error().find("compressed") != std::string::npos);
    CHECK(unframe_message(frame_message("a") + frame_message("b")).error().find("more than one") != std::string::npos);
}

TEST_CASE("HealthCheckResponse: status field 1, unknown fields skipped") {
    CHECK(*decode_check_response("") == 0);
    CHECK(*decode_check_response("\x08\x01"s) == 1);
    CHECK(*decode_check_response("\x08\x02"s) == 2);
    CHECK(*decode_check_response("\x08\x03"s) == 3);
    // an unknown string field 2, a fixed32 field 3 and a fixed64 field 4 around it
    CHECK(*decode_check_response("\x12\x01x\x08\x01\x1d\0\0\0\0\x21\0\0\0\0\0\0\0\0"s) == 1);
    CHECK_FALSE(decode_check_response("\x08"s));
    CHECK_FALSE(decode_check_response("\x12\x05x"s));
    CHECK_FALSE(decode_check_response("\x0b"s));  // wire type 3 (groups) is not valid here
}

TEST_CASE("HealthListResponse: a map of service to HealthCheckResponse") {
    auto entry = [](std::string name, std::string value) {
        std::string body = "\x0a"s + static_cast<char>(name.size()) + name + "\x12"s + static_cast<char>(value.size()) + value;
        return "\x0a"s + static_cast<char>(body.size()) + body;
    };
    auto list = decode_list_response(entry("a", "\x08\x01"s) + entry("b.v1", "\x08\x02"s) + entry("", ""));
    REQUIRE(list);
    REQUIRE(list->size() == 3);
    CHECK((*list)[0] == std::pair<std::string, int>{"a", 1});
    CHECK((*list)[1] == std::pair<std::string, int>{"b.v1", 2});
    CHECK((*list)[2] == std::pair<std::string, int>{"", 0});
    CHECK(decode_list_response("")->empty());
    CHECK_FALSE(decode_list_response("\x0a\x05\x0a\x01"s));
}

TEST_CASE("names of serving statuses and status codes") {
    CHECK(serving_status_name(2) == "NOT_SERVING");
    CHECK(serving_status_name(9) == "status 9");
    CHECK(status_code_name(5) == "NOT_FOUND");
    CHECK(status_code_name(12) == "UNIMPLEMENTED");
    CHECK(status_code_name(16) == "UNAUTHENTICATED");
    CHECK(status_code_name(17) == "code 17");
}

TEST_CASE("grpc-message is percent-decoded, bad escapes kept") {
    CHECK(decode_grpc_message("unknown service a%2Fb") == "unknown service a/b");
    CHECK(decode_grpc_message("100%") == "100%");
    CHECK(decode_grpc_message("%zz%4") == "%zz%4");
    CHECK(decode_grpc_message("caf%C3%A9") == "caf\xc3\xa9");
}

TEST_CASE("grpc-timeout: milliseconds, at most 8 digits") {
    using std::chrono::milliseconds;
    CHECK(grpc_timeout(milliseconds(1500)) == "1500m");
    CHECK(grpc_timeout(milliseconds(0)) == "1m");
    CHECK(grpc_timeout(milliseconds(100'000'000)) == "100000S");
}

TEST_CASE("the server's text in a reason is one short line (found by fuzz_grpc_answer)") {
    RpcAnswer answer;
    answer.http_status = 200;
    answer.grpc_status = 1;
    answer.grpc_message = decode_grpc_message("cancelled%0Aby%0D%0Athe server " + std::string(1000, 'x'));
    auto result = judge_check(answer, "orders", "127.0.0.1:1");
    CHECK_FALSE(result.ok());
    CHECK(result.reason.find('\n') == std::string::npos);
    CHECK(result.reason.find('\r') == std::string::npos);
    CHECK(result.reason.find("cancelled by the server") != std::string::npos);
    CHECK(result.reason.size() < 400);
    CHECK(service_label("a\nb") == "service \"a b\"");
}
