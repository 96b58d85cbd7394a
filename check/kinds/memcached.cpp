// memcached://host[:11211]: `version`, ready on "VERSION x".
#include "check/kinds/memcached.hpp"

#include <fmt/format.h>

namespace healthgate::check {

ProtocolAnswer parse_memcached_version(std::span<const std::uint8_t> bytes) {
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    auto end = text.find("\r\n");
    if (end == std::string_view::npos) {
        if (text.size() > 512) return ProtocolAnswer::protocol_error("answer line too long");
        return ProtocolAnswer::incomplete();
    }
    std::string_view line = text.substr(0, end);
    if (line.starts_with("VERSION ")) return ProtocolAnswer::ready(fmt::format("memcached {}", server_text(line.substr(8), 64)));
    if (line.starts_with("SERVER_ERROR") || line.starts_with("CLIENT_ERROR") || line == "ERROR") {
        return ProtocolAnswer::not_ready(Failure::server_not_ready, server_text(line));
    }
    return ProtocolAnswer::protocol_error(fmt::format("not a memcached answer (\"{}\")", server_text(line, 32)));
}

namespace {

boost::asio::awaitable<CheckResult> attempt(CheckContext& ctx, const Target& target, Clock::time_point deadline) {
    Session session(ctx, "memcached", deadline);
    if (auto failure = co_await session.connect(target)) co_return *failure;
    if (auto failure = co_await session.write("version\r\n")) co_return *failure;
    std::string buffer;
    co_return co_await session.read_answer(buffer, "the version answer", parse_memcached_version);
}

}  // namespace

extern const TargetKind k_memcached_kind{
    .name = "memcached",
    .form = "memcached://host[:port]",
    .ready_when = "`version` answers VERSION",
    .address = AddressForm::host_port,
    .default_port = 11211,
    .locality = Locality::host,
    .attempt = attempt,
};

}  // namespace healthgate::check
