// mysql://host[:3306] (MySQL and MariaDB): read the greeting, then log in as
// user= without a password and read the answer. Closing right after the
// greeting would count as a failed handshake against max_connect_errors and
// get the probing host blocked (1129); an "access denied" does not.
#include "check/kinds/mysql.hpp"

#include <fmt/format.h>

namespace healthgate::check {
namespace {

struct MysqlOptions {
    std::string user = "healthgate";
};

std::optional<std::string> apply_user(Target& target, std::string_view value) {
    if (value.empty() || value.size() > 80 || value.find('\0') != std::string_view::npos) {
        return std::string("expected 1 to 80 characters");
    }
    target.options_as<MysqlOptions>().user = std::string(value);
    return std::nullopt;
}

const OptionSpec k_options[] = {
    {"user", "NAME", "healthgate", "user of the login attempt (no password is sent)", false, apply_user},
};

std::any make_options() { return MysqlOptions{}; }

struct Packet {
    bool complete = false;
    std::span<const std::uint8_t> payload;
    std::size_t size = 0;
};

Packet read_packet(std::span<const std::uint8_t> bytes) {
    Packet packet;
    if (bytes.size() < 4) return packet;
    std::size_t length = bytes[0] | (std::size_t{bytes[1]} << 8) | (std::size_t{bytes[2]} << 16);
    if (bytes.size() < 4 + length) return packet;
    packet.complete = true;
    packet.payload = bytes.subspan(4, length);
    packet.size = 4 + length;
    return packet;
}

// An ERR packet's code and message ("1040 Too many connections").
std::string error_text(std::span<const std::uint8_t> payload) {
    if (payload.size() < 3) return "malformed error packet";
    unsigned code = payload[1] | (unsigned{payload[2]} << 8);
    std::size_t pos = 3;
    if (payload.size() > 3 && payload[3] == '#') pos = std::min<std::size_t>(payload.size(), 9);  // #SQLSTATE
    std::string_view message(reinterpret_cast<const char*>(payload.data() + pos), payload.size() - pos);
    return fmt::format("{} {}", code, server_text(message, 300));
}

ProtocolAnswer not_mysql(std::span<const std::uint8_t> bytes) {
    return ProtocolAnswer::protocol_error(fmt::format(
        "not a mysql greeting (\"{}\")",
        server_text(std::string_view(reinterpret_cast<const char*>(bytes.data()), std::min<std::size_t>(bytes.size(), 16)), 16)));
}

}  // namespace

ProtocolAnswer parse_mysql_greeting(std::span<const std::uint8_t> bytes) {
    if (bytes.size() >= 4) {
        std::size_t length = bytes[0] | (std::size_t{bytes[1]} << 8) | (std::size_t{bytes[2]} << 16);
        if (length == 0 || length > 64 * 1024 || bytes[3] != 0) return not_mysql(bytes);
    }
    Packet packet = read_packet(bytes);
    if (!packet.complete) return ProtocolAnswer::incomplete();
    auto payload = packet.payload;
    if (payload[0] == 0xff) {
        unsigned code = payload.size() >= 3 ? payload[1] | (unsigned{payload[2]} << 8) : 0;
        // 1130: no user may log in from this host; the server is up and answering.
        if (code == 1130) return ProtocolAnswer::ready("accepts connections (" + error_text(payload) + ")", packet.size);
        return ProtocolAnswer::not_ready(Failure::server_not_ready, error_text(payload), packet.size);
    }
    if (payload[0] != 10) return not_mysql(bytes);
    std::size_t end = 1;
    while (end < payload.size() && payload[end] != 0) ++end;
    if (end == payload.size()) return not_mysql(bytes);
    std::string_view version(reinterpret_cast<const char*>(payload.data() + 1), end - 1);
    return ProtocolAnswer::ready(fmt::format("server {}", server_text(version, 64)), packet.size);
}

ProtocolAnswer parse_mysql_login_reply(std::span<const std::uint8_t> bytes) {
    Packet packet = read_packet(bytes);
    if (!packet.complete) return ProtocolAnswer::incomplete();
    auto payload = packet.payload;
    if (payload.empty()) return ProtocolAnswer::protocol_error("empty packet after login");
    if (payload[0] == 0xff) {
        unsigned code = payload.size() >= 3 ? payload[1] | (unsigned{payload[2]} << 8) : 0;
        // Too many connections / host blocked / server shutting down: not ready.
        if (code == 1040 || code == 1129 || code == 1053 || code == 1203 || code == 1226) {
            return ProtocolAnswer::not_ready(Failure::server_not_ready, error_text(payload), packet.size);
        }
        return ProtocolAnswer::ready("handles logins (" + error_text(payload) + ")", packet.size);
    }
    if (payload[0] == 0x00) return ProtocolAnswer::ready("handles logins (logged in)", packet.size);
    if (payload[0] == 0xfe || payload[0] == 0x01) return ProtocolAnswer::ready("handles logins", packet.size);
    return ProtocolAnswer::protocol_error("unexpected answer to the login");
}

std::string mysql_login_request(std::string_view user) {
    // CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH
    const std::uint32_t capabilities = 0x1 | 0x200 | 0x8000 | 0x80000;
    std::string payload;
    for (int i = 0; i < 4; ++i) payload += static_cast<char>((capabilities >> (8 * i)) & 0xff);
    payload += std::string("\x00\x00\x00\x01", 4);  // max packet size 16 MiB
    payload += static_cast<char>(33);                // utf8_general_ci
    payload += std::string(23, '\0');
    payload.append(user).push_back('\0');
    payload.push_back('\0');  // an empty auth response
    payload.append("mysql_native_password").push_back('\0');
    std::string packet;
    for (int i = 0; i < 3; ++i) packet += static_cast<char>((payload.size() >> (8 * i)) & 0xff);
    packet += static_cast<char>(1);  // sequence id
    return packet + payload;
}

namespace {

boost::asio::awaitable<CheckResult> attempt(CheckContext& ctx, const Target& target, Clock::time_point deadline) {
    Session session(ctx, "mysql", deadline);
    if (auto failure = co_await session.connect(target)) co_return *failure;
    std::string buffer;
    ProtocolAnswer greeting;
    while ((greeting = parse_mysql_greeting(as_bytes(buffer))).verdict == ProtocolAnswer::Verdict::incomplete) {
        if (auto failure = co_await session.read_some(buffer, "the greeting")) co_return *failure;
    }
    if (greeting.verdict != ProtocolAnswer::Verdict::ready) co_return session.result_of(greeting);
    buffer.erase(0, greeting.consumed);
    if (auto failure = co_await session.write(mysql_login_request(target.options_as<MysqlOptions>().user))) {
        co_return *failure;
    }
    CheckResult result = co_await session.read_answer(buffer, "the login answer", parse_mysql_login_reply);
    if (result.ok()) result.detail = greeting.text + ", " + result.detail;  // "server 10.11.4-MariaDB, handles logins"
    co_return result;
}

}  // namespace

extern const TargetKind k_mysql_kind{
    .name = "mysql",
    .form = "mysql://host[:port]",
    .ready_when = "a protocol-10 greeting, and a login attempt answered",
    .address = AddressForm::host_port,
    .default_port = 3306,
    .options = k_options,
    .make_options = make_options,
    .locality = Locality::host,
    .attempt = attempt,
};

}  // namespace healthgate::check
