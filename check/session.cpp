#include "check/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <fmt/format.h>

#include "check/connect.hpp"
#include "check/tls_context.hpp"
#include "common/text.hpp"

namespace healthgate::check {
namespace asio = boost::asio;

namespace {

CheckResult fail(Failure failure, std::string reason) { return CheckResult{failure, std::move(reason), {}}; }

}  // namespace

std::string server_text(std::string_view text, std::size_t max_bytes) {
    std::string out = utf8_sanitize(utf8_prefix(text, max_bytes));
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    if (text.size() > max_bytes) out += "...";
    return out;
}

Session::Session(CheckContext& ctx, std::string_view protocol, Clock::time_point deadline)
    : ctx_(ctx), protocol_(protocol), deadline_(deadline), tcp_(ctx.io) {}

Session::~Session() = default;

std::string Session::peer() const { return format_endpoint(endpoint_); }

asio::awaitable<std::optional<CheckResult>> Session::connect(const Target& target) {
    ResolveOutcome resolved = co_await resolve_endpoints(ctx_, target.host, target.port, deadline_);
    if (resolved.endpoints.empty()) co_return resolved.failure;
    ConnectOutcome connected = co_await connect_any(tcp_, resolved.endpoints, target.authority(), deadline_);
    if (!connected.ok) co_return connected.failure;
    endpoint_ = connected.endpoint;
    co_return std::nullopt;
}

asio::awaitable<std::optional<CheckResult>> Session::start_tls(const Target& target, const TlsSettings& settings) {
    auto context = ctx_.tls.get(settings.ca_file, !settings.verify);
    if (!context) co_return fail(Failure::other, context.error());
    tls_.emplace(tcp_, **context);
    const std::string& name = settings.server_name.empty() ? target.host : settings.server_name;
    if (auto problem = prepare_tls_connection(tls_->native_handle(), name, settings.verify); !problem.empty()) {
        co_return fail(Failure::other, "TLS: " + problem);
    }
    attach_certificate_note(tls_->native_handle(), &certificate_note_);
    auto start = Clock::now();
    tcp_.expires_at(deadline_);
    auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    if (!ec) co_return std::nullopt;
    if (ec == boost::beast::error::timeout) {
        co_return fail(Failure::tls_handshake,
                       fmt::format("TLS handshake with {} timed out after {}", peer(), budget_text(deadline_ - start)));
    }
    if (settings.verify) {
        if (std::string why = describe_verify_failure(tls_->native_handle(), name, certificate_note_); !why.empty()) {
            co_return fail(Failure::tls_verify, "TLS: " + why);
        }
    }
    co_return fail(Failure::tls_handshake, fmt::format("TLS handshake with {} failed: {}", peer(), ec.message()));
}

asio::awaitable<std::optional<CheckResult>> Session::write(std::string_view bytes) {
    tcp_.expires_at(deadline_);
    boost::system::error_code ec;
    if (tls_) {
        std::tie(ec, std::ignore) =
            co_await asio::async_write(*tls_, asio::buffer(bytes), asio::as_tuple(asio::use_awaitable));
    } else {
        std::tie(ec, std::ignore) =
            co_await asio::async_write(tcp_, asio::buffer(bytes), asio::as_tuple(asio::use_awaitable));
    }
    if (!ec) co_return std::nullopt;
    if (ec == boost::beast::error::timeout) {
        co_return fail(Failure::read_timeout, fmt::format("sending to {} timed out", peer()));
    }
    co_return fail(Failure::connection_reset, fmt::format("sending to {}: {}", peer(), ec.message()));
}

asio::awaitable<std::optional<CheckResult>> Session::read_some(std::string& buffer, std::string_view awaiting,
                                                                std::size_t max_bytes) {
    if (buffer.size() >= max_bytes) {
        co_return fail(Failure::protocol_error, fmt::format("{} sent more than {} bytes as {} (is it a {} server?)",
                                                            peer(), max_bytes, awaiting, protocol_));
    }
    auto start = Clock::now();
    std::size_t old = buffer.size();
    buffer.resize(std::min(max_bytes, old + 4096));
    tcp_.expires_at(deadline_);
    boost::system::error_code ec;
    std::size_t n = 0;
    auto space = asio::buffer(buffer.data() + old, buffer.size() - old);
    if (tls_) {
        std::tie(ec, n) = co_await tls_->async_read_some(space, asio::as_tuple(asio::use_awaitable));
    } else {
        std::tie(ec, n) = co_await tcp_.async_read_some(space, asio::as_tuple(asio::use_awaitable));
    }
    buffer.resize(old + n);
    if (!ec) co_return std::nullopt;
    if (ec == boost::beast::error::timeout) {
        co_return fail(Failure::read_timeout, fmt::format("no {} from {} within {} (is it a {} server?)", awaiting,
                                                          peer(), budget_text(deadline_ - start), protocol_));
    }
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
        co_return fail(Failure::connection_reset, fmt::format("{} closed the connection before {} (is it a {} server?)",
                                                              peer(), awaiting, protocol_));
    }
    co_return fail(Failure::connection_reset, fmt::format("reading {} from {}: {}", awaiting, peer(), ec.message()));
}

CheckResult Session::result_of(const ProtocolAnswer& answer) const {
    switch (answer.verdict) {
        case ProtocolAnswer::Verdict::ready: return CheckResult{Failure::none, "", {}, answer.text};
        case ProtocolAnswer::Verdict::incomplete: return CheckResult{};
        case ProtocolAnswer::Verdict::not_ready:
            return fail(answer.failure, fmt::format("{} {}: {}", protocol_, peer(), answer.text));
        case ProtocolAnswer::Verdict::protocol_error:
            return fail(Failure::protocol_error,
                        fmt::format("{} {}: {} (is it a {} server?)", protocol_, peer(), answer.text, protocol_));
    }
    return CheckResult{};
}

}  // namespace healthgate::check
