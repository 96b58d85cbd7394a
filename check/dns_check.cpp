// dns://name checks: one search (search list and ndots honoured, like the
// pod's own lookups), then the min= and expect= rules on the answers.
#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>

#include "check/check_context.hpp"

namespace healthgate::check {
namespace {

std::string answers_text(const DnsAnswer& answer, std::size_t max_shown) {
    std::string out;
    std::size_t shown = 0, total = answer.addresses.size() + answer.services.size();
    for (const auto& address : answer.addresses) {
        if (shown == max_shown) break;
        if (!out.empty()) out += ", ";
        out += address.to_string();
        ++shown;
    }
    for (const auto& service : answer.services) {
        if (shown == max_shown) break;
        if (!out.empty()) out += ", ";
        out += fmt::format("{}:{}", service.target, service.port);
        ++shown;
    }
    if (total > shown) out += fmt::format(", ... {} more", total - shown);
    return out;
}

}  // namespace

boost::asio::awaitable<CheckResult> check_dns(CheckContext& ctx, const Target& target, Clock::time_point deadline) {
    const DnsOptions& options = target.dns;
    const ResolvConf& conf = ctx.resolver.conf();
    std::string what = fmt::format("dns {} {}", record_type_name(options.type), target.host);
    auto start = Clock::now();
    auto resolver = ctx.resolver.get();
    if (!resolver) co_return CheckResult{Failure::other, fmt::format("{}: {}", what, resolver.error()), {}};
    std::optional<DnsAnswer> answer = co_await (*resolver)->search(target.host, options.type, deadline);
    CheckResult result;
    if (!answer) {
        result.failure = Failure::dns_server_unreachable;
        result.reason = fmt::format("dns lookup of {} timed out after {} (nameserver {})", target.host,
                                    budget_text(deadline - start), join_nameservers(conf, ", "));
        co_return result;
    }
    if (!answer->ok()) {
        result.failure = classify_ares_status(answer->status);
        result.reason = fmt::format("{}: {}", what, describe_dns_failure(*answer, target.host, options.type, conf));
        co_return result;
    }
    std::size_t count = answer->addresses.size() + answer->services.size();
    if (count < static_cast<std::size_t>(options.min_answers)) {
        result.failure = Failure::dns_too_few_answers;
        result.reason = fmt::format("{}: {} answer{}, want at least {} ({})", what, count, count == 1 ? "" : "s",
                                    options.min_answers, answers_text(*answer, 8));
        co_return result;
    }
    if (!options.expect_address.empty()) {
        boost::system::error_code ec;
        auto expected = boost::asio::ip::make_address(options.expect_address, ec);
        bool found = !ec && std::find(answer->addresses.begin(), answer->addresses.end(), expected) != answer->addresses.end();
        if (!found) {
            result.failure = Failure::dns_unexpected_answer;
            result.reason = fmt::format("{}: {} is not among the answers ({})", what, options.expect_address,
                                        answers_text(*answer, 8));
        }
    }
    co_return result;
}

}  // namespace healthgate::check
