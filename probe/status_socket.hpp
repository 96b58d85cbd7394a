#pragma once
// serve's unix socket (--socket PATH, in the pod's shared emptyDir): the
// cached answer of one endpoint for `healthgate probe --from unix://PATH`,
// an exec probe whose output, unlike an HTTP probe's body, reaches the
// pod's events. It never runs a check. Protocol, one exchange per connection:
//   client: "/readyz\n"  (any path serve answers over HTTP, ?verbose implied)
//   serve:  "200\n" or "503\n", then the [+]/[-] lines, then it closes.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probe/health_status.hpp"

namespace healthgate::probe {

class StatusSocket {
public:
    StatusSocket(boost::asio::io_context& io, std::function<Snapshot()> snapshot);
    ~StatusSocket();
    // Binds PATH, replacing a socket left by a previous run of serve; the
    // error names the call and the path.
    std::optional<std::string> listen(const std::string& path);
    void start();
    void stop();

private:
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> session(boost::asio::local::stream_protocol::socket socket);

    boost::asio::io_context& io_;
    std::function<Snapshot()> snapshot_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    std::string path_;
    std::size_t sessions_ = 0;
};

// The exchange itself, pure: the answer to one request line.
std::string status_answer(std::string_view request_line, const Snapshot& snapshot);

// `healthgate probe --from unix://PATH ENDPOINT`: prints serve's answer and
// exits 0 (200) or 1 (anything else, serve unreachable included).
int probe_from_main(const std::vector<std::string>& args);

}  // namespace healthgate::probe
