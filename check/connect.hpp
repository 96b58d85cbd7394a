#pragma once
// Finding and connecting to a tcp/http host: /etc/hosts, then DNS (A and
// AAAA), then each address in turn within the attempt's deadline.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/error_code.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "check/check_context.hpp"

namespace healthgate::check {

// "10.0.0.1:5432", "[fd00::1]:5432"
std::string format_endpoint(const boost::asio::ip::tcp::endpoint& endpoint);

// Pure: the Failure a connect error means (beast::error::timeout: connect_timeout).
Failure classify_connect_error(const boost::system::error_code& ec);

struct ConnectTry {
    boost::asio::ip::tcp::endpoint endpoint;
    boost::system::error_code error;  // empty: not tried, the deadline came first
    bool tried = false;
    Clock::duration budget{};         // the time this address was given
};

// Pure: the failure after every address failed. One address:
// "connect 127.0.0.1:5432: connection refused"; several: "connect db:5432:
// 10.0.0.1:5432 connection refused; [fd00::1]:5432 timed out after 1s".
CheckResult describe_connect_failure(std::string_view label, const std::vector<ConnectTry>& tries);

struct ResolveOutcome {
    std::vector<boost::asio::ip::tcp::endpoint> endpoints;  // IPv4 first, then IPv6
    CheckResult failure;                                     // when endpoints is empty
};

// IP literal: no lookup. Else /etc/hosts (then "localhost" is loopback even
// without a hosts file), else DNS A + AAAA through the search list.
boost::asio::awaitable<ResolveOutcome> resolve_endpoints(CheckContext& ctx, const std::string& host,
                                                         std::uint16_t port, Clock::time_point deadline);

struct ConnectOutcome {
    bool ok = false;
    boost::asio::ip::tcp::endpoint endpoint;  // the one connected to
    CheckResult failure;
};

// Tries each endpoint in turn. An address gets an equal share of the time
// left (the last gets all of it), so one silent address cannot starve the
// others. `label` (host:port) names the target in the failure.
boost::asio::awaitable<ConnectOutcome> connect_any(boost::beast::tcp_stream& stream,
                                                   const std::vector<boost::asio::ip::tcp::endpoint>& endpoints,
                                                   std::string_view label, Clock::time_point deadline);

}  // namespace healthgate::check
