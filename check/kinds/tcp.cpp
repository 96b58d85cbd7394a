// tcp://host:port: ready when a TCP connect completes (every resolved address is tried).
#include <boost/beast/core/tcp_stream.hpp>

#include "check/connect.hpp"

namespace healthgate::check {
namespace {

boost::asio::awaitable<CheckResult> attempt(CheckContext& ctx, const Target& target, Clock::time_point deadline) {
    ResolveOutcome resolved = co_await resolve_endpoints(ctx, target.host, target.port, deadline);
    if (resolved.endpoints.empty()) co_return resolved.failure;
    boost::beast::tcp_stream stream(ctx.io);
    ConnectOutcome connected = co_await connect_any(stream, resolved.endpoints, target.authority(), deadline);
    if (!connected.ok) co_return connected.failure;
    co_return CheckResult{};  // the stream closes here: a completed connect is the whole check
}

}  // namespace

extern const TargetKind k_tcp_kind{
    .name = "tcp",
    .form = "tcp://host:port",
    .ready_when = "a completed TCP connect (every resolved address is tried)",
    .address = AddressForm::host_port,
    .locality = Locality::host,
    .attempt = attempt,
};

}  // namespace healthgate::check
