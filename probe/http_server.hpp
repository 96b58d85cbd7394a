#pragma once
// The HTTP/1.1 server of `serve` (Beast's parser, one io_context, coroutines).
// It must keep answering the kubelet whatever else holds connections to the
// port (slowloris, slow bodies, slow readers, many keep-alive clients):
//   - a request's first bytes must come within first_bytes_timeout of the
//     connection (or of the previous answer), its headers within
//     header_timeout of those, the rest within read_timeout; idle connections
//     hold no buffer, only a socket and a timer;
//   - at max_sessions, a new connection closes the one that has waited
//     longest for its client (idle, incomplete, or a slow reader) instead of
//     being refused, so a fresh probe is always served; the cap also bounds
//     fds (and is kept under RLIMIT_NOFILE);
//   - a request with a body it does not need (POST...) is answered after its
//     headers, without waiting for the body;
//   - a bad request gets a 4xx and a closed connection.
// What to answer is the pure handle() of http_handler.hpp.
//
// Sockets, timers and coroutines use the io_context's own executor type, not
// the type-erased any_io_executor: it halves the work per request.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>

#include "common/duration.hpp"
#include "common/expected.hpp"
#include "probe/http_handler.hpp"
#include "probe/serve_config.hpp"

namespace healthgate::probe {

struct ServerLimits {
    std::size_t header_bytes = 8 * 1024;  // request line + headers (431 above)
    std::size_t body_bytes = 4 * 1024;    // GET/HEAD need none (413 above)
    Duration first_bytes_timeout{2'000};  // connection (or previous answer) to a request's first bytes
    Duration header_timeout{3'000};       // first bytes to the end of the headers
    Duration read_timeout{10'000};        // idle keep-alive, and a request's body
    Duration write_timeout{10'000};
    std::size_t max_sessions = 512;       // at the cap the longest-waiting session is closed
};

// The session cap for this process: `wanted`, but leaving room under the
// descriptor limit for the checks, the listener and the resolver.
std::size_t session_cap(std::size_t wanted, std::size_t fd_limit);

class HttpServer {
public:
    using SnapshotFn = std::function<Snapshot()>;

    HttpServer(boost::asio::io_context& io, SnapshotFn snapshot, ServerLimits limits = {});
    ~HttpServer();

    // Opens, binds and listens; the error names the address and the call.
    Expected<boost::asio::ip::tcp::endpoint> listen(const ListenAddress& address);
    void start();
    void stop();  // closes the listener; open sessions end with their next read

    using Executor = boost::asio::io_context::executor_type;
    using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
    using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>;
    using Timer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                    boost::asio::wait_traits<std::chrono::steady_clock>, Executor>;
    template <typename T>
    using Task = boost::asio::awaitable<T, Executor>;

private:
    struct Connection;
    Task<void> accept_loop();
    Task<void> session(Socket socket);
    bool evict_oldest();

    boost::asio::io_context& io_;
    SnapshotFn snapshot_;
    ServerLimits limits_;
    Acceptor acceptor_;
    std::size_t sessions_ = 0;
    // Open sessions, longest-waiting first: a session moves to the back each
    // time it makes progress (accepted, a request read, an answer written).
    std::list<Connection*> waiting_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace healthgate::probe
