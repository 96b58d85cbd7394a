// amqp://host[:5672] (AMQP 0-9-1, RabbitMQ): the protocol header, ready when
// the server answers with Connection.Start. No credentials are sent.
#include "check/kinds/amqp.hpp"

#include <fmt/format.h>
#include <string>

namespace healthgate::check {
namespace {

std::uint32_t be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// Reads product= and version= from a field table; stops at a field type it
// does not know (the answer is still a Connection.Start).
void read_server_properties(std::span<const std::uint8_t> table, std::string& product, std::string& version) {
    std::size_t pos = 0;
    while (pos < table.size()) {
        std::size_t name_length = table[pos++];
        if (pos + name_length + 1 > table.size()) return;
        std::string_view name(reinterpret_cast<const char*>(table.data() + pos), name_length);
        pos += name_length;
        char type = static_cast<char>(table[pos++]);
        std::size_t size = 0;
        switch (type) {
            case 't': case 'b': case 'B': size = 1; break;
            case 's': case 'u': size = 2; break;
            case 'I': case 'i': case 'f': size = 4; break;
            case 'l': case 'L': case 'd': case 'T': size = 8; break;
            case 'D': size = 5; break;
            case 'V': size = 0; break;
            case 'S': case 'F': case 'A': case 'x': {
                if (pos + 4 > table.size()) return;
                std::size_t length = be32(table.data() + pos);
                pos += 4;
                if (pos + length > table.size()) return;
                if (type == 'S') {
                    std::string_view value(reinterpret_cast<const char*>(table.data() + pos), length);
                    if (name == "product") product = server_text(value, 64);
                    if (name == "version") version = server_text(value, 32);
                }
                size = length;
                break;
            }
            default: return;
        }
        pos += size;
    }
}

}  // namespace

ProtocolAnswer parse_amqp_start(std::span<const std::uint8_t> bytes) {
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (text.starts_with("AMQP")) {
        if (bytes.size() < 8) return ProtocolAnswer::incomplete();
        return ProtocolAnswer::protocol_error(
            fmt::format("the server speaks AMQP {}-{}-{}, not 0-9-1", bytes[5], bytes[6], bytes[7]));
    }
    if (bytes.size() < 7) {
        if (!bytes.empty() && bytes[0] != 1) return ProtocolAnswer::protocol_error("not an AMQP frame");
        return ProtocolAnswer::incomplete();
    }
    std::uint32_t size = be32(bytes.data() + 3);
    if (bytes[0] != 1 || bytes[1] != 0 || bytes[2] != 0 || size < 4 || size > 128 * 1024) {
        return ProtocolAnswer::protocol_error(
            fmt::format("not an AMQP method frame (\"{}\")", server_text(text.substr(0, 16), 16)));
    }
    if (bytes.size() < 7 + std::size_t{size} + 1) return ProtocolAnswer::incomplete();
    if (bytes[7 + size] != 0xce) return ProtocolAnswer::protocol_error("AMQP frame without its end marker");
    auto payload = bytes.subspan(7, size);
    unsigned klass = (payload[0] << 8) | payload[1], method = (payload[2] << 8) | payload[3];
    if (klass != 10 || method != 10) {
        return ProtocolAnswer::protocol_error(fmt::format("expected Connection.Start, got method {}.{}", klass, method));
    }
    std::string product, version;
    if (payload.size() >= 10) {
        std::size_t table_size = be32(payload.data() + 6);
        if (10 + table_size <= payload.size()) read_server_properties(payload.subspan(10, table_size), product, version);
    }
    std::string name = product.empty() ? "an AMQP 0-9-1 server" : product;
    if (!version.empty()) name += " " + version;
    return ProtocolAnswer::ready(name, 7 + size + 1);
}

namespace {

boost::asio::awaitable<CheckResult> attempt(CheckContext& ctx, const Target& target, Clock::time_point deadline) {
    Session session(ctx, "amqp", deadline);
    if (auto failure = co_await session.connect(target)) co_return *failure;
    if (auto failure = co_await session.write(std::string_view("AMQP\x00\x00\x09\x01", 8))) co_return *failure;
    std::string buffer;
    co_return co_await session.read_answer(buffer, "Connection.Start", parse_amqp_start);
}

}  // namespace

extern const TargetKind k_amqp_kind{
    .name = "amqp",
    .form = "amqp://host[:port]",
    .ready_when = "the AMQP 0-9-1 header is answered by Connection.Start",
    .address = AddressForm::host_port,
    .default_port = 5672,
    .locality = Locality::host,
    .attempt = attempt,
};

}  // namespace healthgate::check
