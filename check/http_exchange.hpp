#pragma once
// One HTTP request/response exchange (a "hop": redirects make several) over
// a plain or a TLS stream. Internal to check/: http_check.cpp instantiates it
// for plain TCP, https_check.cpp for TLS, so the TLS instantiations stay out
// of the pages a plain check touches.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <fmt/format.h>

#include "check/check_context.hpp"
#include "check/connect.hpp"
#include "check/http_rules.hpp"

namespace healthgate::check::http_exchange {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

inline constexpr std::size_t k_header_limit = 16 * 1024;
inline constexpr std::size_t k_status_excerpt_bytes = 120;
inline constexpr std::size_t k_read_chunk = 4096;

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
    const boost::asio::ip::tcp::endpoint& peer_endpoint;
    Clock::time_point deadline;

    // "10.0.0.1:8080", for messages: formatted only when one is written (the
    // exec probe's healthy path never needs it).
    std::string peer() const { return format_endpoint(peer_endpoint); }
};

inline CheckResult fail(Failure failure, std::string reason) { return CheckResult{failure, std::move(reason), {}}; }

bool is_timeout(const boost::system::error_code& ec);

// Transport and parse errors around an exchange, filtered in one place.
CheckResult exchange_failure(const boost::system::error_code& ec, std::string_view phase, const HopInput& in,
                             Clock::time_point phase_start);
// The body bytes that already arrived with the header, parsed without more
// I/O: an excerpt for a failing status costs no extra wait.
std::string buffered_excerpt(Response& response);
std::string redirect_note(const HopInput& in);

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

template <class Stream>
asio::awaitable<Hop> http_hop(CheckContext& ctx, Stream& stream, const HopInput& in) {
    Hop hop;
    const HttpOptions& options = in.target.options_as<HttpOptions>();
    auto& lowest = beast::get_lowest_layer(stream);
    std::string request = request_text(in.target, in.host_header, in.path);

    auto phase_start = Clock::now();
    lowest.expires_at(in.deadline);
    auto [write_ec, written] =
        co_await asio::async_write(stream, asio::buffer(request), asio::as_tuple(asio::use_awaitable));
    if (write_ec) {
        hop.result = exchange_failure(write_ec, "sending the request", in, phase_start);
        co_return hop;
    }
    Response response;
    response.parser.header_limit(k_header_limit);
    response.parser.body_limit(boost::none);  // we stop reading at max_body ourselves
    response.parser.skip(options.method == "HEAD");
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

// The hop over TLS (https_check.cpp): handshake, verification, then http_hop.
asio::awaitable<Hop> https_hop(CheckContext& ctx, beast::tcp_stream&& tcp, const HopInput& in);

}  // namespace healthgate::check::http_exchange
