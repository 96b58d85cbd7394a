#include "probe/status_socket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/exit_codes.hpp"
#include "common/text.hpp"
#include "probe/http_handler.hpp"

namespace healthgate::probe {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;

namespace {
constexpr std::size_t k_max_request = 512;
constexpr std::size_t k_max_sessions = 64;
constexpr auto k_session_timeout = std::chrono::seconds(2);
// The kubelet keeps the first 10 KiB of an exec probe's output.
constexpr std::size_t k_max_output = 10 * 1024;
}  // namespace

std::string status_answer(std::string_view request_line, const Snapshot& snapshot) {
    std::string path(trim(request_line));
    if (path.empty() || path.size() > k_max_request || path.find_first_of(" \t\r") != std::string::npos) {
        return "400\nexpected one line: the path of an endpoint, such as /readyz\n";
    }
    if (path[0] != '/') path = "/" + path;
    if (path.find("verbose") == std::string::npos) path += path.find('?') == std::string::npos ? "?verbose" : "&verbose";
    Response response = handle(Request{"GET", path, ""}, snapshot);
    std::string body = std::move(response.body);
    if (!body.empty() && body.back() != '\n') body += '\n';
    return fmt::format("{}\n{}", response.status, body);
}

StatusSocket::StatusSocket(asio::io_context& io, std::function<Snapshot()> snapshot)
    : io_(io), snapshot_(std::move(snapshot)), acceptor_(io) {}

StatusSocket::~StatusSocket() {
    if (!path_.empty()) ::unlink(path_.c_str());
}

std::optional<std::string> StatusSocket::listen(const std::string& path) {
    if (path.size() >= sizeof(sockaddr_un::sun_path)) return fmt::format("socket {}: path too long", path);
    // A socket left by a previous serve (the emptyDir outlives it) is replaced;
    // anything else at PATH is an error.
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
    boost::system::error_code ec;
    acceptor_.open(Local(), ec);
    if (!ec) acceptor_.bind(Local::endpoint(path), ec);
    if (ec) return fmt::format("bind unix socket {}: {}", path, ec.message());
    path_ = path;
    // The app's container may run as another user than serve's: anyone who
    // can reach the directory may ask (the answer is what /readyz says anyway).
    if (::chmod(path.c_str(), 0666) != 0) return fmt::format("chmod {}: {}", path, std::strerror(errno));
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fmt::format("listen on unix socket {}: {}", path, ec.message());
    return std::nullopt;
}

void StatusSocket::start() { asio::co_spawn(io_, accept_loop(), asio::detached); }

void StatusSocket::stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

asio::awaitable<void> StatusSocket::accept_loop() {
    for (;;) {
        auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
        if (ec) continue;
        if (sessions_ >= k_max_sessions) continue;  // closed at once: memory stays bounded
        asio::co_spawn(io_, session(std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> StatusSocket::session(Local::socket socket) {
    ++sessions_;
    asio::steady_timer deadline(io_);
    deadline.expires_after(k_session_timeout);
    deadline.async_wait([&socket](const boost::system::error_code& ec) {
        boost::system::error_code ignored;
        if (!ec) socket.close(ignored);
    });
    asio::streambuf buffer(k_max_request + 1);
    auto [ec, n] = co_await asio::async_read_until(socket, buffer, '\n', asio::as_tuple(asio::use_awaitable));
    if (!ec || ec == asio::error::eof) {
        std::string line(asio::buffers_begin(buffer.data()), asio::buffers_begin(buffer.data()) + (n ? n : buffer.size()));
        std::string answer = status_answer(line, snapshot_());
        co_await asio::async_write(socket, asio::buffer(answer), asio::as_tuple(asio::use_awaitable));
    }
    deadline.cancel();
    --sessions_;
}

int probe_from_main(const std::vector<std::string>& args) {
    // args: --from URL ENDPOINT, or --from=URL ENDPOINT
    std::string from, endpoint;
    std::size_t i = 0;
    if (args.size() >= 1 && args[0].starts_with("--from=")) {
        from = args[0].substr(7);
        i = 1;
    } else if (args.size() >= 2 && args[0] == "--from") {
        from = args[1];
        i = 2;
    }
    if (i + 1 != args.size() || !from.starts_with("unix://") || from.size() <= 7) {
        std::fputs("healthgate probe: usage: healthgate probe --from unix:///PATH/serve.sock ENDPOINT (readyz, livez, "
                   "startupz, CONTAINER/readyz ...)\n",
                   stderr);
        return k_exit_usage;
    }
    endpoint = args[i];
    std::string path = from.substr(7);
    auto fail = [&](std::string_view call) {
        std::printf("[-]serve failed: %s %s: %s\n", std::string(call).c_str(), from.c_str(), std::strerror(errno));
        return k_exit_not_ready;
    };
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path) {
        std::printf("[-]serve failed: %s: path too long\n", from.c_str());
        return k_exit_not_ready;
    }
    std::memcpy(address.sun_path, path.data(), path.size());
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail("socket");
    timeval timeout{0, 800'000};  // under the kubelet's default timeoutSeconds (1s)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return fail("connect");
    std::string request = endpoint + "\n";
    if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) return fail("write");
    std::string answer;
    char chunk[4096];
    for (;;) {
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail("read");
        if (n == 0) break;
        answer.append(chunk, static_cast<std::size_t>(n));
        if (answer.size() > k_max_output + 8) break;
    }
    ::close(fd);
    auto newline = answer.find('\n');
    std::string status = answer.substr(0, newline);
    std::string body = newline == std::string::npos ? "" : answer.substr(newline + 1);
    if (body.size() > k_max_output) body.resize(k_max_output);
    std::fwrite(body.data(), 1, body.size(), stdout);
    if (status != "200" && body.empty()) std::printf("[-]serve answered %s\n", status.c_str());
    return status == "200" ? k_exit_ok : k_exit_not_ready;
}

}  // namespace healthgate::probe
