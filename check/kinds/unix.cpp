// unix:///path: a unix stream socket accepts a connection.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/error.hpp>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "check/check_context.hpp"

namespace healthgate::check {
namespace {

namespace asio = boost::asio;
using UnixStream = boost::beast::basic_stream<asio::local::stream_protocol>;

CheckResult fail(Failure failure, std::string reason) { return CheckResult{failure, std::move(reason), {}}; }

asio::awaitable<CheckResult> attempt(CheckContext& ctx, const Target& target, Clock::time_point deadline) {
    const std::string& path = target.path;
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
        co_return fail(Failure::other, fmt::format("unix socket path {} is too long ({} bytes, at most {})", path,
                                                   path.size(), sizeof(sockaddr_un::sun_path) - 1));
    }
    UnixStream stream(ctx.io);
    auto start = Clock::now();
    stream.expires_at(deadline);
    auto [ec] = co_await stream.async_connect(asio::local::stream_protocol::endpoint(path),
                                              asio::as_tuple(asio::use_awaitable));
    std::string where = "connect unix:" + path;
    if (!ec) {
        // A unix listener with a full backlog makes a non-blocking connect()
        // fail with EAGAIN, which asio takes for "in progress" and then for
        // success: only getpeername() tells that nothing was connected.
        boost::system::error_code peer_ec;
        stream.socket().remote_endpoint(peer_ec);
        if (!peer_ec) co_return CheckResult{};
        co_return fail(Failure::connect_timeout,
                       fmt::format("{}: the listener's backlog is full (it is not accepting connections)", where));
    }
    if (ec == boost::beast::error::timeout) {
        co_return fail(Failure::connect_timeout, fmt::format("{}: timed out after {} (the listener is not accepting)",
                                                             where, budget_text(deadline - start)));
    }
    if (ec == boost::system::errc::no_such_file_or_directory || ec == boost::system::errc::not_a_directory) {
        co_return fail(Failure::socket_missing, fmt::format("unix socket {} does not exist", path));
    }
    if (ec == asio::error::connection_refused) {
        struct stat st{};
        if (::stat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
            co_return fail(Failure::other, fmt::format("{}: {} is not a socket", where, path));
        }
        co_return fail(Failure::connection_refused,
                       fmt::format("{}: connection refused (no process is listening; a stale socket file?)", where));
    }
    if (ec == asio::error::try_again || ec == asio::error::would_block) {
        co_return fail(Failure::connect_timeout, fmt::format("{}: the listener's backlog is full", where));
    }
    co_return fail(Failure::other, fmt::format("{}: {}", where, ec.message()));
}

}  // namespace

extern const TargetKind k_unix_kind{
    .name = "unix",
    .form = "unix:///path/to/socket",
    .ready_when = "a unix socket accepts connections",
    .address = AddressForm::path,
    .locality = Locality::local,
    .attempt = attempt,
};

}  // namespace healthgate::check
