// dns://name: one search (search list and ndots honoured, like the pod's own
// lookups), then the min= and expect= rules on the answers. The lookup itself
// is check/resolver.*.
#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>

#include "check/check_context.hpp"
#include "common/text.hpp"

namespace healthgate::check {
namespace {

struct DnsOptions {
    DnsRecordType type = DnsRecordType::a;  // type=A|AAAA|SRV
    int min_answers = 1;                    // min=N
    std::string expect_address;             // expect=10.0.0.1 (one answer must equal it)
};

DnsOptions& dns(Target& target) { return target.options_as<DnsOptions>(); }

std::optional<std::string> apply_type(Target& target, std::string_view value) {
    std::string lower = to_lower(value);
    if (lower == "a") dns(target).type = DnsRecordType::a;
    else if (lower == "aaaa") dns(target).type = DnsRecordType::aaaa;
    else if (lower == "srv") dns(target).type = DnsRecordType::srv;
    else return std::string("expected A, AAAA or SRV");
    return std::nullopt;
}

std::optional<std::string> apply_min(Target& target, std::string_view value) {
    long n = 0;
    if (auto problem = parse_whole_option(value, 1, 1000, n)) return problem;
    dns(target).min_answers = static_cast<int>(n);
    return std::nullopt;
}

std::optional<std::string> apply_expect(Target& target, std::string_view value) {
    if (!is_ip_address(value)) return std::string("expected an IPv4 or IPv6 address");
    dns(target).expect_address = std::string(value);
    return std::nullopt;
}

const OptionSpec k_options[] = {
    {"type", "A|AAAA|SRV", "A", "record type", false, apply_type},
    {"min", "N", "1", "at least N answers (a headless Service with at least N endpoints)", false, apply_min},
    {"expect", "ADDR", "", "one answer must be this address", false, apply_expect},
};

std::optional<std::string> check_combination(const Target& target) {
    const DnsOptions& options = target.options_as<DnsOptions>();
    if (options.type == DnsRecordType::srv && !options.expect_address.empty()) {
        return std::string("expect= compares addresses, but SRV answers are host names: use type=A or AAAA");
    }
    if (!options.expect_address.empty()) {
        bool v6 = options.expect_address.find(':') != std::string::npos;
        if (v6 != (options.type == DnsRecordType::aaaa)) {
            return fmt::format("expect={} can never be an {} answer", options.expect_address,
                               options.type == DnsRecordType::aaaa ? "AAAA" : "A");
        }
    }
    return std::nullopt;
}

std::any make_options() { return DnsOptions{}; }

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

boost::asio::awaitable<CheckResult> attempt(CheckContext& ctx, const Target& target, Clock::time_point deadline) {
    const DnsOptions& options = target.options_as<DnsOptions>();
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
        result.reason = fmt::format("{}: {}", what, describe_dns_failure(answer->status, target.host, options.type, conf));
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

}  // namespace

extern const TargetKind k_dns_kind{
    .name = "dns",
    .form = "dns://name",
    .ready_when = "the name resolves (search list and ndots honoured)",
    .address = AddressForm::dns_name,
    .options = k_options,
    .make_options = make_options,
    .check_combination = check_combination,
    .locality = Locality::remote,
    .attempt = attempt,
};

}  // namespace healthgate::check
