#include "check/connect.hpp"

#include <ares.h>
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/text.hpp"

namespace healthgate::check {
namespace {

namespace asio = boost::asio;
using boost::asio::ip::tcp;

constexpr std::string_view k_timeout_hint = "no answer: often a NetworkPolicy or firewall";

bool is_timeout(const boost::system::error_code& ec) {
    return ec == boost::beast::error::timeout || ec == asio::error::timed_out;
}

// The error alone, without the address: "connection refused", "timed out after 2s".
std::string connect_error_text(const boost::system::error_code& ec, Clock::duration budget) {
    if (is_timeout(ec)) return fmt::format("timed out after {}", budget_text(budget));
    if (ec == asio::error::connection_refused) return "connection refused";
    if (ec == asio::error::network_unreachable) return "network unreachable";
    if (ec == asio::error::host_unreachable) return "no route to host";
    if (ec == asio::error::address_family_not_supported) return "address family not supported (IPv6 disabled?)";
    if (ec == asio::error::connection_reset) return "connection reset";
    std::string text = ec.message();
    if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    return text;
}

bool equal_icase(std::string_view a, std::string_view b) { return to_lower(a) == to_lower(b); }

// Several answers for one host: the servers' problem outranks "no such
// name", which outranks "no records" (an AAAA-less name is normal).
int combined_status(const Resolver::HostAnswer& answer) {
    auto status = [](const std::optional<DnsAnswer>& a) { return a ? a->status : ARES_ETIMEOUT; };
    int a = status(answer.a), aaaa = status(answer.aaaa);
    auto is_name_status = [](int s) { return s == ARES_ENOTFOUND || s == ARES_ENODATA; };
    if (!is_name_status(a) && answer.a) return a;
    if (!is_name_status(aaaa) && answer.aaaa) return aaaa;
    if (!answer.a && !answer.aaaa) return ARES_ETIMEOUT;
    if (a == ARES_ENOTFOUND || aaaa == ARES_ENOTFOUND) return ARES_ENOTFOUND;
    return ARES_ENODATA;
}

}  // namespace

std::string format_endpoint(const tcp::endpoint& endpoint) {
    if (endpoint.address().is_v6()) return fmt::format("[{}]:{}", endpoint.address().to_string(), endpoint.port());
    return fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
}

Failure classify_connect_error(const boost::system::error_code& ec) {
    if (!ec) return Failure::none;
    if (is_timeout(ec)) return Failure::connect_timeout;
    if (ec == asio::error::connection_refused) return Failure::connection_refused;
    if (ec == asio::error::network_unreachable || ec == asio::error::host_unreachable ||
        ec == asio::error::network_down || ec == asio::error::address_family_not_supported ||
        ec == boost::system::errc::address_not_available) {
        return Failure::network_unreachable;
    }
    if (ec == asio::error::connection_reset || ec == asio::error::connection_aborted) return Failure::connection_reset;
    return Failure::other;
}

CheckResult describe_connect_failure(std::string_view label, const std::vector<ConnectTry>& tries) {
    CheckResult result;
    result.failure = Failure::other;
    if (tries.empty()) {
        result.reason = fmt::format("connect {}: no address to try", label);
        return result;
    }
    // The first address is the preferred one: its failure classifies the
    // attempt; the reason lists them all.
    const ConnectTry& first = tries.front();
    result.failure = first.tried ? classify_connect_error(first.error) : Failure::connect_timeout;
    bool any_timeout = false;
    for (const auto& t : tries) any_timeout = any_timeout || (t.tried && is_timeout(t.error));
    if (tries.size() == 1) {
        result.reason = fmt::format("connect {}: {}", format_endpoint(first.endpoint),
                                    first.tried ? connect_error_text(first.error, first.budget)
                                                : std::string("not tried (out of time)"));
        if (any_timeout) result.reason += fmt::format(" ({})", k_timeout_hint);
        return result;
    }
    std::string parts;
    for (const auto& t : tries) {
        if (!parts.empty()) parts += "; ";
        parts += format_endpoint(t.endpoint);
        parts += ' ';
        parts += t.tried ? connect_error_text(t.error, t.budget) : std::string("not tried (out of time)");
    }
    result.reason = fmt::format("connect {}: {}", label, parts);
    if (any_timeout) result.reason += fmt::format(" ({})", k_timeout_hint);
    return result;
}

asio::awaitable<ResolveOutcome> resolve_endpoints(CheckContext& ctx, const std::string& host, std::uint16_t port,
                                                  Clock::time_point deadline) {
    ResolveOutcome out;
    boost::system::error_code ec;
    auto literal = asio::ip::make_address(host, ec);
    if (!ec) {
        out.endpoints.emplace_back(literal, port);
        co_return out;
    }
    std::vector<asio::ip::address> addresses = ctx.hosts.lookup(host);
    std::string_view bare = host;
    if (!bare.empty() && bare.back() == '.') bare.remove_suffix(1);
    if (addresses.empty() && equal_icase(bare, "localhost")) {
        // RFC 6761: localhost is loopback, even in an image without /etc/hosts.
        addresses = {asio::ip::address_v4::loopback(), asio::ip::address_v6::loopback()};
    }
    if (addresses.empty()) {
        auto start = Clock::now();
        auto resolver = ctx.resolver.get();
        if (!resolver) {
            out.failure = CheckResult{Failure::other, fmt::format("dns lookup of {}: {}", host, resolver.error()), {}};
            co_return out;
        }
        Resolver::HostAnswer answer = co_await (*resolver)->search_host(host, deadline);
        for (const auto* part : {&answer.a, &answer.aaaa}) {
            if (*part && (*part)->ok()) {
                addresses.insert(addresses.end(), (*part)->addresses.begin(), (*part)->addresses.end());
            }
        }
        if (addresses.empty()) {
            const ResolvConf& conf = ctx.resolver.conf();
            if (!answer.a && !answer.aaaa) {
                out.failure.failure = Failure::dns_server_unreachable;
                out.failure.reason = fmt::format("dns lookup of {} timed out after {} (nameserver {})", host,
                                                 budget_text(deadline - start), join_nameservers(conf, ", "));
                co_return out;
            }
            int status = combined_status(answer);
            out.failure.failure = classify_ares_status(status);
            if (status == ARES_ENODATA) {
                out.failure.reason = fmt::format("dns lookup of {}: no A or AAAA record: tried {}", host,
                                                 fmt::join(search_candidates(host, conf), ", "));
            } else {
                out.failure.reason =
                    fmt::format("dns lookup of {}: {}", host, describe_dns_failure(status, host, DnsRecordType::a, conf));
            }
            co_return out;
        }
    }
    std::stable_partition(addresses.begin(), addresses.end(), [](const auto& a) { return a.is_v4(); });
    for (const auto& address : addresses) out.endpoints.emplace_back(address, port);
    co_return out;
}

asio::awaitable<ConnectOutcome> connect_any(boost::beast::tcp_stream& stream, const std::vector<tcp::endpoint>& endpoints,
                                            std::string_view label, Clock::time_point deadline) {
    ConnectOutcome out;
    std::vector<ConnectTry> tries;
    tries.reserve(endpoints.size());
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
        ConnectTry t;
        t.endpoint = endpoints[i];
        auto now = Clock::now();
        if (now < deadline) {
            auto left = static_cast<long>(endpoints.size() - i);
            auto until = left == 1 ? deadline : now + (deadline - now) / left;
            boost::system::error_code ignored;
            stream.socket().close(ignored);  // a failed connect leaves the socket open
            stream.expires_at(until);
            auto [ec] = co_await stream.async_connect(t.endpoint, asio::as_tuple(asio::use_awaitable));
            if (!ec) {
                stream.expires_never();
                out.ok = true;
                out.endpoint = t.endpoint;
                co_return out;
            }
            t.tried = true;
            t.error = ec;
            t.budget = until - now;
        }
        tries.push_back(t);
    }
    boost::system::error_code ignored;
    stream.socket().close(ignored);
    out.failure = describe_connect_failure(label, tries);
    co_return out;
}

}  // namespace healthgate::check
