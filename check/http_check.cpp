// The exchange helpers of http:// and https:// checks (the kind itself:
// check/kinds/http.cpp).
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

}  // namespace healthgate::check
