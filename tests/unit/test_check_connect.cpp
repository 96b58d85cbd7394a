#include <boost/beast/core/error.hpp>
#include <catch2/catch.hpp>

#include "check/connect.hpp"

using namespace healthgate::check;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::ip::make_address;
using asio::ip::tcp;

namespace {

ConnectTry tried(const char* address, std::uint16_t port, boost::system::error_code ec,
                 Clock::duration budget = 2s) {
    ConnectTry t;
    t.endpoint = tcp::endpoint(make_address(address), port);
    t.error = ec;
    t.tried = true;
    t.budget = budget;
    return t;
}

}  // namespace

TEST_CASE("endpoints print IPv6 in brackets", "[connect]") {
    REQUIRE(format_endpoint(tcp::endpoint(make_address("10.0.0.1"), 5432)) == "10.0.0.1:5432");
    REQUIRE(format_endpoint(tcp::endpoint(make_address("fd00::1"), 443)) == "[fd00::1]:443");
}

TEST_CASE("connect errors are classified", "[connect]") {
    REQUIRE(classify_connect_error({}) == Failure::none);
    REQUIRE(classify_connect_error(asio::error::connection_refused) == Failure::connection_refused);
    REQUIRE(classify_connect_error(boost::beast::error::timeout) == Failure::connect_timeout);
    REQUIRE(classify_connect_error(asio::error::timed_out) == Failure::connect_timeout);
    REQUIRE(classify_connect_error(asio::error::network_unreachable) == Failure::network_unreachable);
    REQUIRE(classify_connect_error(asio::error::host_unreachable) == Failure::network_unreachable);
    REQUIRE(classify_connect_error(asio::error::address_family_not_supported) == Failure::network_unreachable);
    REQUIRE(classify_connect_error(asio::error::connection_reset) == Failure::connection_reset);
    REQUIRE(classify_connect_error(asio::error::access_denied) == Failure::other);
}

TEST_CASE("one address: the reason names it", "[connect]") {
    auto refused = describe_connect_failure("db:5432", {tried("10.0.1.45", 5432, asio::error::connection_refused)});
    REQUIRE(refused.failure == Failure::connection_refused);
    REQUIRE(refused.reason == "connect 10.0.1.45:5432: connection refused");

    auto timeout = describe_connect_failure("db:5432", {tried("10.0.0.1", 5432, boost::beast::error::timeout)});
    REQUIRE(timeout.failure == Failure::connect_timeout);
    REQUIRE(timeout.reason ==
            "connect 10.0.0.1:5432: timed out after 2s (no answer: often a NetworkPolicy or firewall)");

    auto unreachable = describe_connect_failure("db:5432", {tried("10.0.0.1", 5432, asio::error::host_unreachable)});
    REQUIRE(unreachable.failure == Failure::network_unreachable);
    REQUIRE(unreachable.reason == "connect 10.0.0.1:5432: no route to host");

    ConnectTry late;
    late.endpoint = tcp::endpoint(make_address("10.0.0.1"), 80);
    auto out_of_time = describe_connect_failure("web:80", {late});
    REQUIRE(out_of_time.failure == Failure::connect_timeout);
    REQUIRE(out_of_time.reason == "connect 10.0.0.1:80: not tried (out of time)");
}

TEST_CASE("several addresses: all summarized, the first classifies", "[connect]") {
    ConnectTry late;
    late.endpoint = tcp::endpoint(make_address("fd00::3"), 5432);
    auto result = describe_connect_failure(
        "db:5432", {tried("10.0.0.1", 5432, asio::error::connection_refused),
                    tried("fd00::2", 5432, boost::beast::error::timeout, 1500ms), late});
    REQUIRE(result.failure == Failure::connection_refused);
    REQUIRE(result.reason ==
            "connect db:5432: 10.0.0.1:5432 connection refused; [fd00::2]:5432 timed out after 1.5s; "
            "[fd00::3]:5432 not tried (out of time) (no answer: often a NetworkPolicy or firewall)");
}
