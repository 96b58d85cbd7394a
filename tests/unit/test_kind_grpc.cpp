#include <catch2/catch.hpp>

#include "common/target.hpp"

using namespace healthgate;

TEST_CASE("grpc and grpcs targets: port, options, errors", "[kind][grpc]") {
    auto plain = parse_target("grpc://db:50051?service=a,b&header=X-Token:t&list=true");
    REQUIRE(plain);
    CHECK(plain->kind->name == "grpc");
    CHECK(plain->port == 50051);
    CHECK(plain->name == "grpc://db:50051");
    auto tls = parse_target("grpcs://api.example?ca=/ca.pem&sni=api&cert=/c.pem&key=/k.pem");
    REQUIRE(tls);
    CHECK(tls->kind->name == "grpcs");
    CHECK(tls->port == 443);
    CHECK(parse_target("grpc://db").error().find("port") != std::string::npos);
    CHECK(parse_target("grpc://db:1?ca=/x").error().find("\"ca\"") != std::string::npos);
    CHECK(parse_target("grpcs://db:1?cert=/x").error().find("cert= and key= go together") != std::string::npos);
    CHECK(parse_target("grpc://db:1?list=maybe").error().find("list") != std::string::npos);
    CHECK(parse_target("grpc://db:1?header=novalue").error().find("header") != std::string::npos);
    // metadata values are secret: an error never shows them
    auto bad = parse_target("grpc://db:1?header=X:s3%0Acret");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().find("s3") == std::string::npos);
}
