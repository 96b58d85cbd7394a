#include "probe/http_server.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>
#include <span>

#include "common/log.hpp"

namespace healthgate::probe {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto k_use = asio::as_tuple(asio::use_awaitable_t<asio::io_context::executor_type>{});

// The one place where read errors are sorted: 0 means "close quietly" (the
// peer left, went idle past the timeout, or we are stopping), anything else
// is the status of the error answer sent before closing.
int error_status(const beast::error_code& ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor || ec == asio::error::broken_pipe ||
        ec == http::error::partial_message) {
        return 0;
    }
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) return 431;
    if (ec == http::error::body_limit) return 413;
    return 400;
}

std::string_view error_text(int status) {
    switch (status) {
        case 431: return "request header fields too large\n";
        case 413: return "request body too large (GET and HEAD need none)\n";
        default: return "bad request\n";
    }
}

}  // namespace

// A connection and its deadline. Setting the deadline is a store; one timer
// per connection wakes at the deadline and closes the socket if it has not
// moved on meanwhile (which cancels the pending read or write).
struct HttpServer::Connection : std::enable_shared_from_this<Connection> {
    Socket socket;
    Timer timer;
    Clock::time_point deadline = Clock::time_point::max();
    std::list<Connection*>::iterator position;  // in waiting_, while listed
    bool listed = false;

    explicit Connection(Socket s) : socket(std::move(s)), timer(socket.get_executor()) {}

    void expires_after(Duration timeout) {
        Clock::time_point next = Clock::now() + timeout;
        bool rearm = next < deadline || deadline == Clock::time_point::max();
        deadline = next;
        if (rearm) watch();  // earlier than the pending wake-up (or the first one)
    }

    void watch() {
        timer.expires_at(deadline);
        timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec || !self->socket.is_open()) return;  // re-armed or closed
            if (Clock::now() >= self->deadline) {
                boost::system::error_code ignored;
                self->socket.close(ignored);
                return;
            }
            self->watch();
        });
    }

    void close() {
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        socket.close(ignored);
        timer.cancel();
    }
};

HttpServer::HttpServer(asio::io_context& io, SnapshotFn snapshot, ServerLimits limits)
    : io_(io), snapshot_(std::move(snapshot)), limits_(limits), acceptor_(io.get_executor()) {}

HttpServer::~HttpServer() { *alive_ = false; }

Expected<tcp::endpoint> HttpServer::listen(const ListenAddress& address) {
    boost::system::error_code ec;
    auto fail = [&](std::string_view call, const tcp::endpoint& endpoint) {
        std::string where = endpoint.address().is_v6() ? fmt::format("[{}]:{}", endpoint.address().to_string(), endpoint.port())
                                                        : fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
        return make_error(fmt::format("cannot listen on {}: {}: {}", where, call, ec.message()));
    };
    std::vector<tcp::endpoint> candidates;
    if (address.host.empty()) {
        // Every address: IPv6 with IPv4-mapped when the kernel has IPv6, else IPv4.
        candidates.emplace_back(asio::ip::address_v6::any(), address.port);
        candidates.emplace_back(asio::ip::address_v4::any(), address.port);
    } else {
        candidates.emplace_back(asio::ip::make_address(address.host), address.port);
    }
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const tcp::endpoint& endpoint = candidates[i];
        bool last = i + 1 == candidates.size();
        if (acceptor_.is_open()) acceptor_.close(ec);
        acceptor_.open(endpoint.protocol(), ec);
        if (ec) {
            if (!last && (ec == asio::error::address_family_not_supported || ec == asio::error::no_protocol_option)) continue;
            return fail("socket", endpoint);
        }
        acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
        if (endpoint.address().is_v6() && address.host.empty()) acceptor_.set_option(asio::ip::v6_only(false), ec);
        acceptor_.bind(endpoint, ec);
        if (ec) {
            if (!last && ec == boost::system::errc::address_not_available) continue;
            return fail("bind", endpoint);
        }
        acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) return fail("listen", endpoint);
        return acceptor_.local_endpoint(ec);
    }
    return make_error("cannot listen: no usable address");
}

std::size_t session_cap(std::size_t wanted, std::size_t fd_limit) {
    // The checks, the listener, c-ares and the log need a few descriptors each.
    constexpr std::size_t k_reserved = 64;
    if (fd_limit <= 2 * k_reserved) return std::max<std::size_t>(1, std::min(wanted, fd_limit / 2));
    return std::min(wanted, fd_limit - k_reserved);
}

void HttpServer::start() { asio::co_spawn(io_.get_executor(), accept_loop(), asio::detached); }

void HttpServer::stop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
}

// Closes the session that has waited longest for its client; its coroutine
// ends with its pending read or write cancelled.
bool HttpServer::evict_oldest() {
    if (waiting_.empty()) return false;
    Connection* oldest = waiting_.front();
    waiting_.pop_front();
    oldest->listed = false;
    --sessions_;
    oldest->close();
    return true;
}

HttpServer::Task<void> HttpServer::accept_loop() {
    std::shared_ptr<bool> alive = alive_;
    Timer pause(io_.get_executor());
    for (;;) {
        auto [ec, socket] = co_await acceptor_.async_accept(k_use);
        if (!*alive || ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
        if (ec) {
            // Out of descriptors: make room by closing the longest-waiting
            // session; with none to close, say so once per pause and retry.
            if ((ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system) &&
                evict_oldest()) {
                continue;
            }
            log::warn("accept failed", {{"error", ec.message()}});
            pause.expires_after(Duration{100});
            co_await pause.async_wait(k_use);
            continue;
        }
        while (sessions_ >= limits_.max_sessions && evict_oldest()) {
        }
        asio::co_spawn(io_.get_executor(), session(std::move(socket)), asio::detached);
    }
}

HttpServer::Task<void> HttpServer::session(Socket socket) {
    std::shared_ptr<bool> alive = alive_;
    boost::system::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    auto connection = std::make_shared<Connection>(std::move(socket));
    ++sessions_;
    connection->position = waiting_.insert(waiting_.end(), connection.get());
    connection->listed = true;
    struct Unlist {
        HttpServer* server;
        Connection* connection;
        std::shared_ptr<bool> alive;
        ~Unlist() {
            if (!*alive || !connection->listed) return;  // evicted (already uncounted) or server gone
            server->waiting_.erase(connection->position);
            --server->sessions_;
            connection->listed = false;
        }
    } unlist{this, connection.get(), alive};
    auto progressed = [&] {
        if (connection->listed) waiting_.splice(waiting_.end(), waiting_, connection->position);
    };

    Socket& stream = connection->socket;
    beast::flat_buffer buffer(limits_.header_bytes + limits_.body_bytes);
    for (bool first = true;; first = false) {
        if (buffer.size() == 0) {
            // Waiting for a request's first bytes holds no buffer.
            buffer.shrink_to_fit();
            connection->expires_after(first ? std::min(limits_.first_bytes_timeout, limits_.read_timeout)
                                            : limits_.read_timeout);
            auto [wait_error] = co_await stream.async_wait(Socket::wait_read, k_use);
            if (wait_error || !*alive) break;
        }
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(limits_.header_bytes));
        parser.body_limit(limits_.body_bytes);
        connection->expires_after(std::min(limits_.header_timeout, limits_.read_timeout));
        auto [read_error, read_bytes] = co_await http::async_read_header(stream, buffer, parser, k_use);
        if (!*alive) co_return;
        // A body only GET or HEAD waits for (and they rarely have one); any
        // other method is answered (405) after its headers.
        bool unread_body = false;
        if (!read_error && !parser.is_done()) {
            http::verb method = parser.get().method();
            if (method == http::verb::get || method == http::verb::head) {
                connection->expires_after(limits_.read_timeout);
                auto [body_error, body_bytes] = co_await http::async_read(stream, buffer, parser, k_use);
                if (!*alive) co_return;
                read_error = body_error;
            } else {
                unread_body = true;
            }
        }

        Response answer;
        bool keep_alive = false;
        bool head_only = false;
        unsigned version = 11;
        if (read_error) {
            answer.status = error_status(read_error);
            if (answer.status == 0) break;
            answer.body = std::string(error_text(answer.status));
        } else {
            const auto& request = parser.get();
            answer = handle(Request{request.method_string(), request.target(), request[http::field::accept]}, snapshot_());
            keep_alive = request.keep_alive() && answer.status != 405 && !unread_body;
            head_only = request.method() == http::verb::head;
            version = request.version();
        }
        std::string head = response_head(answer, keep_alive, version);
        std::array<asio::const_buffer, 2> message{asio::buffer(head), asio::buffer(answer.body)};
        connection->expires_after(limits_.write_timeout);
        auto [write_error, written] =
            co_await asio::async_write(stream, std::span<const asio::const_buffer>(message.data(), head_only ? 1 : 2), k_use);
        if (!*alive) co_return;
        if (!write_error) progressed();
        if (write_error || !keep_alive) {
            if (!write_error && (read_error || unread_body)) {
                // Closing with unread request bytes would send a reset that can
                // destroy our answer before the client reads it: read and drop
                // a bounded amount for a short time first.
                stream.shutdown(tcp::socket::shutdown_send, ec);
                buffer.clear();
                std::size_t dropped = 0;
                connection->expires_after(Duration{500});
                while (dropped < 64 * 1024) {
                    auto [drain_error, n] = co_await stream.async_read_some(buffer.prepare(4096), k_use);
                    if (drain_error || !*alive) break;
                    dropped += n;
                }
            }
            break;
        }
    }
    if (*alive) connection->close();
}

}  // namespace healthgate::probe
