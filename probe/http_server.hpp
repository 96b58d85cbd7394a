#pragma once
// The HTTP/1.1 server of `serve` (Boost.Beast, one io_context, coroutines).
// Each session is bounded in time and memory: one expires_after per read and
// per write, a header limit, a small body limit, and a cap on sessions; a bad
// request gets a 4xx and a closed connection, and the others keep being
// served. What to answer is the pure handle() of http_handler.hpp.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
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

private:
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket);

    boost::asio::io_context& io_;
    SnapshotFn snapshot_;
    ServerLimits limits_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::size_t sessions_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace healthgate::probe
