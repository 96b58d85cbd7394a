// http:// and https:// checks with Boost.Beast: one request per connection
// (Connection: close), same-origin redirects followed, at most max_body bytes
// of body read, and only when a body rule needs them.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>

#include "check/check_context.hpp"
#include "check/connect.hpp"
#include "check/http_rules.hpp"

namespace healthgate::check {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

constexpr std::size_t k_header_limit = 16 * 1024;
constexpr std::size_t k_status_excerpt_bytes = 120;
constexpr std::size_t k_read_chunk = 4096;

using Request = http::request<http::empty_body>;

struct Response {
    http::response_parser<http::buffer_body> parser;
    beast::flat_buffer buffer;
};

// What one request/response exchange (one hop) decided.
struct Hop {
    bool follow = false;
    std::string next_path;
    CheckResult result;
};

// Everything a hop needs that does not change between hops.
struct HopInput {
    const Target& target;
    const Origin& origin;
    const std::string& host_header;
    const std::string& path;
    int followed;
    const BodyRegex* regex;
    const std::string& peer;  // "10.0.0.1:8080", for messages
    Clock::time_point deadline;
};

CheckResult fail(Failure failure, std::string reason) { return CheckResult{failure, std::move(reason), {}}; }

bool is_timeout(const boost::system::error_code& ec) { return ec == beast::error::timeout; }

// Transport and parse errors around an exchange, filtered in one place.
CheckResult exchange_failure(const boost::system::error_code& ec, std::string_view phase, const HopInput& in,
                             Clock::time_point phase_start) {
    if (is_timeout(ec)) {
        return fail(Failure::read_timeout, fmt::format("read timed out after {} {} from {}",
                                                       budget_text(in.deadline - phase_start), phase, in.peer));
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
        return fail(Failure::connection_reset,
                    fmt::format("{} closed the connection {} (is it an HTTP server?)", in.peer, phase));
    }
    if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
        ec == asio::error::connection_aborted) {
        return fail(Failure::connection_reset, fmt::format("connection reset by {} {}", in.peer, phase));
    }
    if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
        return fail(Failure::http_protocol, fmt::format("malformed HTTP response from {}: {}", in.peer, ec.message()));
    }
    return fail(Failure::other, fmt::format("{} {}: {}", in.peer, phase, ec.message()));
}

Request make_request(const Target& target, const std::string& host_header, const std::string& path) {
    Request request;
    request.version(11);
    http::verb verb = http::string_to_verb(target.http.method);
    if (verb == http::verb::unknown) {
        request.method_string(target.http.method);
    } else {
        request.method(verb);
    }
    request.target(path);
    request.set(http::field::host, host_header);
    request.set(http::field::user_agent, "healthgate/" HEALTHGATE_VERSION);
    request.set(http::field::accept, "*/*");
    request.set(http::field::connection, "close");
    if (verb == http::verb::post || verb == http::verb::put || verb == http::verb::patch) request.content_length(0);
    for (const auto& [name, value] : target.http.headers) request.set(name, value);
    return request;
}

// The body bytes that already arrived with the header, parsed without more
// I/O: an excerpt for a failing status costs no extra wait.
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

template <class Stream>
asio::awaitable<boost::system::error_code> read_body(Stream& stream, Response& response, std::size_t cap,
                                                     std::string& body, bool& truncated) {
    char chunk[k_read_chunk];
    while (!response.parser.is_done()) {
        if (body.size() >= cap) {
            truncated = true;
            break;
        }
        std::size_t want = std::min(sizeof chunk, cap - body.size());
        auto& b = response.parser.get().body();
        b.data = chunk;
        b.size = want;
        auto [ec, n] = co_await http::async_read(stream, response.buffer, response.parser, asio::as_tuple(asio::use_awaitable));
        body.append(chunk, want - b.size);
        if (ec == http::error::need_buffer) continue;
        if (ec == asio::ssl::error::stream_truncated && response.parser.need_eof()) {
            // A TLS server that closes without close_notify ends an
            // EOF-delimited body all the same.
            boost::system::error_code eof_ec;
            response.parser.put_eof(eof_ec);
            if (!eof_ec) break;
        }
        if (ec) co_return ec;
    }
    co_return boost::system::error_code{};
}

std::string redirect_note(const HopInput& in) {
    if (in.followed == 0) return {};
    return fmt::format(" (after {} redirect{}, at {})", in.followed, in.followed == 1 ? "" : "s", in.path);
}

template <class Stream>
asio::awaitable<Hop> http_hop(CheckContext& ctx, Stream& stream, const HopInput& in) {
    Hop hop;
    const HttpOptions& options = in.target.http;
    auto& lowest = beast::get_lowest_layer(stream);
    Request request = make_request(in.target, in.host_header, in.path);

    auto phase_start = Clock::now();
    lowest.expires_at(in.deadline);
    auto [write_ec, written] = co_await http::async_write(stream, request, asio::as_tuple(asio::use_awaitable));
    if (write_ec) {
        hop.result = exchange_failure(write_ec, "sending the request", in, phase_start);
        co_return hop;
    }
    Response response;
    response.parser.header_limit(k_header_limit);
    response.parser.body_limit(boost::none);  // we stop reading at max_body ourselves
    response.parser.skip(request.method() == http::verb::head);
    auto [header_ec, header_bytes] = co_await http::async_read_header(stream, response.buffer, response.parser,
                                                                      asio::as_tuple(asio::use_awaitable));
    if (header_ec) {
        hop.result = exchange_failure(header_ec, "waiting for the response", in, phase_start);
        co_return hop;
    }

    const auto& header = response.parser.get();
    int status = static_cast<int>(header.result_int());
    std::string phrase(header.reason());
    if (phrase.empty()) phrase = std::string(http::obsolete_reason(header.result()));
    std::string location(header[http::field::location]);
    bool accepted = options.statuses.contains(status);

    auto decision = decide_redirect(status, location, in.origin, options.host_header, in.path, in.followed,
                                    options.max_redirects);
    switch (decision.kind) {
        case RedirectDecision::follow:
            hop.follow = true;
            hop.next_path = decision.path;
            co_return hop;
        case RedirectDecision::too_many:
            hop.result = fail(Failure::http_protocol,
                              fmt::format("stopped after {} redirect{} (HTTP {} to {}; redirects={})", in.followed,
                                          in.followed == 1 ? "" : "s", status, location, options.max_redirects));
            co_return hop;
        case RedirectDecision::other_origin:
        case RedirectDecision::bad_location:
            // Not followed, like the kubelet: the 3xx itself is judged.
            if (!accepted) {
                hop.result = fail(Failure::http_protocol,
                                  fmt::format("HTTP {} {} redirects to {}, not followed ({}; want status {}){}", status,
                                              phrase, location,
                                              decision.kind == RedirectDecision::bad_location ? "unusable Location"
                                                                                              : "another host",
                                              options.statuses.to_string(), redirect_note(in)));
                co_return hop;
            }
            break;
        case RedirectDecision::not_redirect: break;
    }

    if (!accepted) {
        std::string excerpt = buffered_excerpt(response);
        std::string reason = fmt::format("HTTP {} {} (want {}){}", status, phrase, options.statuses.to_string(),
                                         redirect_note(in));
        if (!location.empty()) reason += fmt::format(" Location: {}", location);
        if (!excerpt.empty()) reason += fmt::format(": {}", excerpt);
        hop.result = fail(Failure::http_status, std::move(reason));
        co_return hop;
    }
    if (options.body_contains.empty() && options.body_regex.empty()) co_return hop;  // success

    std::string body;
    bool truncated = false;
    auto body_start = Clock::now();
    boost::system::error_code ec = co_await read_body(stream, response, options.max_body_bytes, body, truncated);
    auto mismatch = body_mismatch(body, truncated || ec, options, in.regex);
    if (!mismatch) co_return hop;  // what arrived already matches
    if (ec) {
        hop.result = exchange_failure(ec, "reading the body", in, body_start);
        hop.result.reason += fmt::format(" ({} bytes read{})", body.size(), redirect_note(in));
    } else {
        hop.result = fail(Failure::http_body, *mismatch + redirect_note(in));
    }
    co_return hop;
}

asio::awaitable<Hop> https_hop(CheckContext& ctx, beast::tcp_stream&& tcp, const HopInput& in) {
    Hop hop;
    const HttpOptions& options = in.target.http;
    auto context = ctx.tls.get(options.ca_file, options.insecure_skip_verify);
    if (!context) {
        hop.result = fail(Failure::other, context.error());
        co_return hop;
    }
    asio::ssl::stream<beast::tcp_stream> tls(std::move(tcp), **context);
    const std::string& name = options.server_name.empty() ? in.target.host : options.server_name;
    if (auto problem = prepare_tls_connection(tls.native_handle(), name, !options.insecure_skip_verify);
        !problem.empty()) {
        hop.result = fail(Failure::other, "TLS: " + problem);
        co_return hop;
    }
    std::string certificate;
    attach_certificate_note(tls.native_handle(), &certificate);
    auto start = Clock::now();
    beast::get_lowest_layer(tls).expires_at(in.deadline);
    auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    if (ec) {
        if (is_timeout(ec)) {
            hop.result = fail(Failure::tls_handshake, fmt::format("TLS handshake with {} timed out after {}", in.peer,
                                                                  budget_text(in.deadline - start)));
        } else if (auto why = options.insecure_skip_verify ? std::string() : describe_verify_failure(tls.native_handle(), name, certificate);
                   !why.empty()) {
            hop.result = fail(Failure::tls_verify, "TLS: " + why);
        } else if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
                   ec == asio::error::connection_reset) {
            hop.result = fail(Failure::tls_handshake,
                              fmt::format("TLS handshake with {} failed: connection closed by the server", in.peer));
        } else {
            hop.result = fail(Failure::tls_handshake,
                              fmt::format("TLS handshake with {} failed: {} (is it a TLS port?)", in.peer, ec.message()));
        }
        co_return hop;
    }
    co_return co_await http_hop(ctx, tls, in);
}

}  // namespace

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
        std::string peer = format_endpoint(connected.endpoint);
        HopInput in{target, origin, host_header, path, followed, regex, peer, deadline};
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
