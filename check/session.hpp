#pragma once
// One connection of a request/answer kind (postgres, mysql, redis, amqp,
// memcached): resolve and connect within the attempt's deadline, optionally
// TLS on top, then writes and reads whose errors come back as classified
// results that name the peer and what was awaited. The protocols themselves
// are pure parsers over bytes in their kind files.
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "check/check_context.hpp"

namespace healthgate::check {

// What a protocol parser made of the bytes received so far (a pure function
// over bytes in each kind file, unit-tested and fuzzed on its own).
struct ProtocolAnswer {
    enum class Verdict { incomplete, ready, not_ready, protocol_error };
    Verdict verdict = Verdict::incomplete;
    Failure failure = Failure::none;  // not_ready: the class (server_not_ready, other, ...)
    std::string text;                 // ready: what the server said ("accepts connections, asks for a password");
                                      // else why it is not ready ("57P03 the database system is starting up")
    std::size_t consumed = 0;         // bytes of this answer, for protocols that answer several requests

    static ProtocolAnswer incomplete() { return {}; }
    static ProtocolAnswer ready(std::string text, std::size_t consumed = 0) {
        return {Verdict::ready, Failure::none, std::move(text), consumed};
    }
    static ProtocolAnswer not_ready(Failure failure, std::string text, std::size_t consumed = 0) {
        return {Verdict::not_ready, failure, std::move(text), consumed};
    }
    static ProtocolAnswer protocol_error(std::string text) {
        return {Verdict::protocol_error, Failure::protocol_error, std::move(text), 0};
    }
};

inline std::span<const std::uint8_t> as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

struct TlsSettings {
    std::string ca_file;      // "" = system CAs
    std::string server_name;  // "" = the target's host
    bool verify = true;
};

class Session {
public:
    // `protocol` names the server in messages: "is it a postgres server?".
    Session(CheckContext& ctx, std::string_view protocol, Clock::time_point deadline);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Resolves and connects (every address in turn); the failure, or nothing.
    boost::asio::awaitable<std::optional<CheckResult>> connect(const Target& target);
    // TLS over the connection; later reads and writes go through it.
    boost::asio::awaitable<std::optional<CheckResult>> start_tls(const Target& target, const TlsSettings& settings);
    boost::asio::awaitable<std::optional<CheckResult>> write(std::string_view bytes);
    // Appends what arrives (at least one byte) to `buffer`. `awaiting` says
    // what for, in messages: "the startup answer". More than `max_bytes` in
    // the buffer is a protocol error (an answer this kind never sends).
    boost::asio::awaitable<std::optional<CheckResult>> read_some(std::string& buffer, std::string_view awaiting,
                                                                 std::size_t max_bytes = 64 * 1024);
    std::string peer() const;  // "10.0.0.1:5432"

    // Reads until `parse` (a pure parser of the buffer) has an answer; the
    // result is that answer as a check result ("postgres 10.0.0.1:5432: ...").
    template <class Parse>
    boost::asio::awaitable<CheckResult> read_answer(std::string& buffer, std::string_view awaiting, Parse parse) {
        while (true) {
            ProtocolAnswer answer = parse(as_bytes(buffer));
            if (answer.verdict != ProtocolAnswer::Verdict::incomplete) co_return result_of(answer);
            if (auto failure = co_await read_some(buffer, awaiting)) co_return *failure;
        }
    }
    CheckResult result_of(const ProtocolAnswer& answer) const;

private:
    CheckContext& ctx_;
    std::string_view protocol_;
    Clock::time_point deadline_;
    boost::beast::tcp_stream tcp_;
    boost::asio::ip::tcp::endpoint endpoint_;
    std::string certificate_note_;  // before tls_: the SSL object points to it
    std::optional<boost::asio::ssl::stream<boost::beast::tcp_stream&>> tls_;
};

// Printable excerpt of a server's text for a message: at most max_bytes,
// control characters as '?'.
std::string server_text(std::string_view text, std::size_t max_bytes = 200);

}  // namespace healthgate::check
