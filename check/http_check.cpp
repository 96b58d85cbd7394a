// http:// and https:// checks with Boost.Beast: one request per connection
// (Connection: close), same-origin redirects followed, at most max_body bytes
// of body read, and only when a body rule needs them.
#include "check/connect.hpp"
#include "check/http_exchange.hpp"

namespace healthgate::check {
namespace http_exchange {

bool is_timeout(const boost::system::error_code& ec) { return ec == beast::error::timeout; }

CheckResult exchange_failure(const boost::system::error_code& ec, std::string_view phase, const HopInput& in,
                             Clock::time_point phase_start) {
    if (is_timeout(ec)) {
        return fail(Failure::read_timeout, fmt::format("read timed out after {} {} from {}",
                                                       budget_text(in.deadline - phase_start), phase, in.peer()));
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
        return fail(Failure::connection_reset,
                    fmt::format("{} closed the connection {} (is it an HTTP server?)", in.peer(), phase));
    }
    if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
        ec == asio::error::connection_aborted) {
        return fail(Failure::connection_reset, fmt::format("connection reset by {} {}", in.peer(), phase));
    }
    if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
        return fail(Failure::http_protocol, fmt::format("malformed HTTP response from {}: {}", in.peer(), ec.message()));
    }
    return fail(Failure::other, fmt::format("{} {}: {}", in.peer(), phase, ec.message()));
}

std::string buffered_excerpt(Response& response) {
    char chunk[k_status_excerpt_bytes * 2];
    auto& body = response.parser.get().body();
    body.data = chunk;
    body.size = sizeof chunk;
    boost::system::error_code ec;
    while (response.buffer.size() > 0 && !response.parser.is_done() && body.size > 0) {
        std::size_t n = response.parser.put(response.buffer.data(), ec);
        response.buffer.consume(n);
        if (ec == http::error::need_buffer) ec = {};
        if (ec || n == 0) break;
    }
    std::size_t got = sizeof chunk - body.size;
    body.data = nullptr;
    body.size = 0;
    return got ? body_excerpt(std::string_view(chunk, got), k_status_excerpt_bytes) : std::string();
}

std::string redirect_note(const HopInput& in) {
    if (in.followed == 0) return {};
    return fmt::format(" (after {} redirect{}, at {})", in.followed, in.followed == 1 ? "" : "s", in.path);
}

}  // namespace http_exchange

using namespace http_exchange;
using asio::ip::tcp;

asio::awaitable<CheckResult> check_http(CheckContext& ctx, const Target& target, Clock::time_point deadline) {
    bool https = target.kind == TargetKind::https;
    ResolveOutcome resolved = co_await resolve_endpoints(ctx, target.host, target.port, deadline);
    if (resolved.endpoints.empty()) co_return resolved.failure;

    const BodyRegex* regex = nullptr;
    if (!target.http.body_regex.empty()) {
        regex = ctx.regexes.get(target.http.body_regex);
        if (!regex) co_return fail(Failure::other, fmt::format("invalid body_regex /{}/", target.http.body_regex));
    }
    Origin origin{https, target.host, target.port};
    std::string host_header = target.http.host_header.empty() ? default_host_header(target) : target.http.host_header;
    std::string path = target.path;
    std::string label = target.authority();
    std::vector<tcp::endpoint> endpoints = std::move(resolved.endpoints);
    for (int followed = 0;; ++followed) {
        beast::tcp_stream stream(ctx.io);
        ConnectOutcome connected = co_await connect_any(stream, endpoints, label, deadline);
        if (!connected.ok) co_return connected.failure;
        // Redirects go back to the address that answered.
        endpoints.assign(1, connected.endpoint);
        HopInput in{target, origin, host_header, path, followed, regex, endpoints.front(), deadline};
        // (Plain statements: GCC 12 mishandles co_await inside ?: and if-initializers.)
        Hop hop;
        if (https) {
            hop = co_await https_hop(ctx, std::move(stream), in);
        } else {
            hop = co_await http_hop(ctx, stream, in);
        }
        if (!hop.follow) co_return hop.result;
        path = std::move(hop.next_path);
    }
}

}  // namespace healthgate::check
