// The TLS half of https:// checks, in its own file so that its template
// instantiations (OpenSSL streams) sit apart from the plain-HTTP code.
#include <boost/asio/ssl/stream.hpp>

#include "check/http_exchange.hpp"
#include "check/tls_context.hpp"

namespace healthgate::check::http_exchange {

asio::awaitable<Hop> https_hop(CheckContext& ctx, beast::tcp_stream&& tcp, const HopInput& in) {
    Hop hop;
    const HttpOptions& options = in.target.options_as<HttpOptions>();
    auto context = ctx.tls.get(options.ca_file, options.insecure_skip_verify);
    if (!context) {
        hop.result = fail(Failure::other, context.error());
        co_return hop;
    }
    std::string certificate;  // declared first: the SSL object points to it until it goes
    asio::ssl::stream<beast::tcp_stream> tls(std::move(tcp), **context);
    const std::string& name = options.server_name.empty() ? in.target.host : options.server_name;
    if (auto problem = prepare_tls_connection(tls.native_handle(), name, !options.insecure_skip_verify);
        !problem.empty()) {
        hop.result = fail(Failure::other, "TLS: " + problem);
        co_return hop;
    }
    attach_certificate_note(tls.native_handle(), &certificate);
    auto start = Clock::now();
    beast::get_lowest_layer(tls).expires_at(in.deadline);
    auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    if (ec) {
        if (is_timeout(ec)) {
            hop.result = fail(Failure::tls_handshake, fmt::format("TLS handshake with {} timed out after {}", in.peer(),
                                                                  budget_text(in.deadline - start)));
        } else if (std::string why = options.insecure_skip_verify
                                         ? std::string()
                                         : describe_verify_failure(tls.native_handle(), name, certificate);
                   !why.empty()) {
            hop.result = fail(Failure::tls_verify, "TLS: " + why);
        } else if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
                   ec == asio::error::connection_reset) {
            hop.result = fail(Failure::tls_handshake,
                              fmt::format("TLS handshake with {} failed: connection closed by the server", in.peer()));
        } else {
            hop.result = fail(Failure::tls_handshake,
                              fmt::format("TLS handshake with {} failed: {} (is it a TLS port?)", in.peer(), ec.message()));
        }
        co_return hop;
    }
    co_return co_await http_hop(ctx, tls, in);
}

}  // namespace healthgate::check::http_exchange
