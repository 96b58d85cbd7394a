#pragma once
// The HTTP/1.1 server of `serve` (Beast's parser, one io_context, coroutines).
// Each session is bounded in time and memory: a deadline set before each read
// and each write (one timer per connection enforces it), a header limit, a
// small body limit, and a cap on sessions; a bad request gets a 4xx and a
// closed connection, and the others keep being served. What to answer is the
// pure handle() of http_handler.hpp.
//
// Sockets, timers and coroutines use the io_context's own executor type, not
// the type-erased any_io_executor: it halves the work per request.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <functional>
#include <memory>

#include "common/duration.hpp"
#include "common/expected.hpp"
#include "probe/http_handler.hpp"
#include "probe/serve_config.hpp"

namespace healthgate::probe {

struct ServerLimits {
    std::size_t header_bytes = 8 * 1024;  // request line + headers (431 above)
    std::size_t body_bytes = 4 * 1024;    // GET/HEAD need none (413 above)
    Duration read_timeout{10'000};        // a whole request, idle keep-alive included
    Duration write_timeout{10'000};
    std::size_t max_sessions = 256;       // further connections are closed at once (memory bound)
};

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

    boost::asio::io_context& io_;
    SnapshotFn snapshot_;
    ServerLimits limits_;
    Acceptor acceptor_;
    std::size_t sessions_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace healthgate::probe
