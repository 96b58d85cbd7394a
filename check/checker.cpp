#include <exception>
#include <fmt/format.h>

#include "check/check.hpp"
#include "check/check_context.hpp"
#include "check/resolv_conf.hpp"

namespace healthgate::check {

std::string_view failure_name(Failure failure) {
    switch (failure) {
        case Failure::none: return "ok";
        case Failure::dns_no_such_name: return "dns: no such name";
        case Failure::dns_no_answer: return "dns: no answer";
        case Failure::dns_server_unreachable: return "dns: server unreachable";
        case Failure::dns_server_failure: return "dns: server failure";
        case Failure::dns_too_few_answers: return "dns: too few answers";
        case Failure::dns_unexpected_answer: return "dns: unexpected answer";
        case Failure::connection_refused: return "connection refused";
        case Failure::connect_timeout: return "connect timeout";
        case Failure::network_unreachable: return "network unreachable";
        case Failure::connection_reset: return "connection reset";
        case Failure::tls_handshake: return "tls handshake";
        case Failure::tls_verify: return "tls verify";
        case Failure::http_status: return "http status";
        case Failure::http_body: return "http body";
        case Failure::http_protocol: return "http protocol";
        case Failure::read_timeout: return "read timeout";
        case Failure::file_missing: return "file missing";
        case Failure::file_empty: return "file empty";
        case Failure::file_stale: return "file stale";
        case Failure::socket_missing: return "socket missing";
        case Failure::server_not_ready: return "server not ready";
        case Failure::protocol_error: return "protocol error";
        case Failure::grpc_not_serving: return "grpc: not serving";
        case Failure::grpc_service_unknown: return "grpc: service unknown";
        case Failure::grpc_unimplemented: return "grpc: no health service";
        case Failure::grpc_status: return "grpc: status";
        case Failure::other: return "other";
    }
    return "other";
}

std::string budget_text(Clock::duration budget) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(budget + std::chrono::microseconds(500));
    if (ms.count() >= 1000 && ms.count() < 60'000 && ms.count() % 1000 == 0) return fmt::format("{}s", ms.count() / 1000);
    return format_duration(ms);
}

const BodyRegex* RegexCache::get(const std::string& pattern) {
    if (auto it = compiled_.find(pattern); it != compiled_.end()) return &it->second;
    try {
        return &compiled_.emplace(pattern, BodyRegex(pattern, k_body_regex_flags)).first->second;
    } catch (const std::exception&) {
        return nullptr;
    }
}

Expected<Resolver*> LazyResolver::get() {
    if (!resolver_) {
        auto created = Resolver::create(io_, conf_);
        if (!created) return make_error(created.error());
        resolver_ = std::move(*created);
    }
    return resolver_.get();
}

namespace {

class CheckerImpl final : public Checker {
public:
    CheckerImpl(boost::asio::io_context& io, ResolvConf conf, const std::string& hosts_path)
        : io_(io), resolver_(io, std::move(conf)), hosts_(hosts_path), context_{io_, resolver_, hosts_, tls_, regexes_} {}

    boost::asio::awaitable<CheckResult> run(const Target& target, Duration timeout) override {
        auto start = Clock::now();
        auto deadline = start + timeout;
        CheckResult result;
        try {
            result = co_await target.kind->attempt(context_, target, deadline);
        } catch (const std::exception& e) {
            // Not expected (errors are values here); an attempt must still end with a result.
            result = CheckResult{Failure::other, fmt::format("internal error: {}", e.what()), {}};
        }
        result.latency = std::chrono::duration_cast<Duration>(Clock::now() - start);
        co_return result;
    }

    std::string resolver_summary() const override { return check::resolver_summary(resolver_.conf()); }

private:
    boost::asio::io_context& io_;
    LazyResolver resolver_;
    HostsFile hosts_;
    TlsContexts tls_;
    RegexCache regexes_;
    CheckContext context_;
};

}  // namespace

bool needs_name_lookup(const Target& target) {
    switch (target.kind->address) {
        case AddressForm::dns_name: return true;
        case AddressForm::host_port:
        case AddressForm::http_url: return !target.host_is_ip_literal();
        case AddressForm::path: return false;
    }
    return true;
}

Expected<std::unique_ptr<Checker>> Checker::create(boost::asio::io_context& io, const CheckerOptions& options) {
    auto conf = options.names_needed ? load_resolv_conf(options.resolv_conf_path)
                                     : parse_resolv_conf("", options.resolv_conf_path);
    if (!conf) return make_error(conf.error());
    return std::unique_ptr<Checker>(std::make_unique<CheckerImpl>(io, std::move(*conf), options.hosts_path));
}

}  // namespace healthgate::check
