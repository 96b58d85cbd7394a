// redis://host[:6379] and rediss:// (TLS): PING, ready on +PONG (or an
// authentication demand when no password= is given: the server is up).
#include "check/kinds/redis.hpp"

#include <charconv>
#include <fmt/format.h>

#include "common/text.hpp"

namespace healthgate::check {
namespace {

struct RedisOptions {
    std::string password;
    std::string role;  // "" (any), "master", "replica"
    std::string ca_file;
    std::string server_name;
    bool insecure = false;
};

RedisOptions& redis(Target& target) { return target.options_as<RedisOptions>(); }

std::optional<std::string> apply_password(Target& target, std::string_view value) {
    if (value.empty() || value.size() > 1024) return std::string("expected 1 to 1024 characters");
    redis(target).password = std::string(value);
    return std::nullopt;
}

std::optional<std::string> apply_role(Target& target, std::string_view value) {
    std::string role = to_lower(value);
    if (role == "slave") role = "replica";
    if (role != "master" && role != "replica") return std::string("expected master or replica");
    redis(target).role = role;
    return std::nullopt;
}

std::optional<std::string> apply_ca(Target& target, std::string_view value) {
    return parse_nonempty_option(value, redis(target).ca_file);
}

std::optional<std::string> apply_sni(Target& target, std::string_view value) {
    if (!is_valid_hostname(value)) return std::string("invalid server name");
    redis(target).server_name = std::string(value);
    return std::nullopt;
}

std::optional<std::string> apply_insecure(Target& target, std::string_view value) {
    return parse_bool_option(value, redis(target).insecure);
}

#define HEALTHGATE_REDIS_OPTIONS                                                                                   \
    {"password", "SECRET", "", "sent with AUTH before PING (without it, an auth demand counts as ready)", true,  \
     apply_password},                                                                                            \
        {"role", "master|replica", "any", "the role INFO replication must report", false, apply_role}

const OptionSpec k_redis_options[] = {HEALTHGATE_REDIS_OPTIONS};
const OptionSpec k_rediss_options[] = {
    HEALTHGATE_REDIS_OPTIONS,
    {"ca", "/path/ca.pem", "system CAs", "trust this CA file instead of the system CAs", false, apply_ca},
    {"sni", "NAME", "the host", "server name sent (SNI) and verified in the certificate", false, apply_sni},
    {"insecure", "true", "false", "skip certificate verification (explicit only)", false, apply_insecure},
};

std::any make_options() { return RedisOptions{}; }

void append_command(std::string& out, std::initializer_list<std::string_view> words) {
    out += fmt::format("*{}\r\n", words.size());
    for (std::string_view word : words) out += fmt::format("${}\r\n{}\r\n", word.size(), word);
}

std::string first_word(std::string_view text) { return std::string(text.substr(0, text.find(' '))); }

// An error reply: the not-ready states named, anything else as said.
ProtocolAnswer classify_error(std::string_view what, std::string_view text, bool password_given) {
    std::string word = first_word(text);
    if (!password_given && (word == "NOAUTH" || word == "WRONGPASS")) {
        return ProtocolAnswer::ready(fmt::format("up (asks for a password: {})", server_text(text)));
    }
    if (word == "LOADING" || word == "MASTERDOWN" || word == "BUSY" || word == "TRYAGAIN") {
        return ProtocolAnswer::not_ready(Failure::server_not_ready, fmt::format("{}: {}", what, server_text(text)));
    }
    return ProtocolAnswer::not_ready(Failure::other, fmt::format("{}: {}", what, server_text(text)));
}

}  // namespace

RespReply parse_resp_reply(std::span<const std::uint8_t> bytes) {
    RespReply reply;
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    auto crlf = text.find("\r\n");
    if (crlf == std::string_view::npos) {
        if (!text.empty() && std::string_view("+-:$").find(text[0]) == std::string_view::npos) reply.malformed = true;
        if (text.size() > 4096) reply.malformed = true;
        return reply;
    }
    if (crlf == 0 || std::string_view("+-:$").find(text[0]) == std::string_view::npos) {
        reply.malformed = true;
        return reply;
    }
    reply.type = text[0];
    std::string_view line = text.substr(1, crlf - 1);
    if (reply.type != '$') {
        reply.text = std::string(line);
        reply.complete = true;
        reply.consumed = crlf + 2;
        return reply;
    }
    long length = 0;
    auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), length);
    if (ec != std::errc{} || ptr != line.data() + line.size() || length < -1 || length > 1024 * 1024) {
        reply.malformed = true;
        return reply;
    }
    if (length == -1) {  // a null bulk string
        reply.complete = true;
        reply.consumed = crlf + 2;
        return reply;
    }
    std::size_t need = crlf + 2 + static_cast<std::size_t>(length) + 2;
    if (text.size() < need) return reply;
    if (text.substr(need - 2, 2) != "\r\n") {
        reply.malformed = true;
        return reply;
    }
    reply.text = std::string(text.substr(crlf + 2, static_cast<std::size_t>(length)));
    reply.complete = true;
    reply.consumed = need;
    return reply;
}

std::string redis_request(std::string_view password, bool want_role) {
    std::string out;
    if (!password.empty()) append_command(out, {"AUTH", password});
    append_command(out, {"PING"});
    if (want_role) append_command(out, {"INFO", "replication"});
    return out;
}

ProtocolAnswer parse_redis_replies(std::span<const std::uint8_t> bytes, bool password_given, std::string_view role) {
    std::size_t pos = 0;
    auto next = [&](RespReply& reply) {
        reply = parse_resp_reply(bytes.subspan(pos));
        pos += reply.consumed;
        return reply.complete;
    };
    auto malformed = [&]() {
        return ProtocolAnswer::protocol_error(fmt::format(
            "not a redis answer (\"{}\")",
            server_text(std::string_view(reinterpret_cast<const char*>(bytes.data()), std::min<std::size_t>(bytes.size(), 32)), 32)));
    };
    RespReply reply;
    if (password_given) {
        if (!next(reply)) return reply.malformed ? malformed() : ProtocolAnswer::incomplete();
        if (reply.type == '-') {
            auto answer = classify_error("AUTH", reply.text, true);
            if (first_word(reply.text) == "WRONGPASS" || first_word(reply.text) == "ERR") {
                answer.text = fmt::format("AUTH refused the password: {}", server_text(reply.text));
            }
            return answer;
        }
    }
    if (!next(reply)) return reply.malformed ? malformed() : ProtocolAnswer::incomplete();
    if (reply.type == '-') return classify_error("PING", reply.text, password_given);
    if (reply.type != '+' || reply.text != "PONG") return malformed();
    if (role.empty()) return ProtocolAnswer::ready("PONG");
    if (!next(reply)) return reply.malformed ? malformed() : ProtocolAnswer::incomplete();
    if (reply.type == '-') return classify_error("INFO replication", reply.text, password_given);
    if (reply.type != '$') return malformed();
    std::string actual;
    for (std::string_view line : split(reply.text, '\n')) {
        line = trim(line);
        if (line.starts_with("role:")) actual = std::string(line.substr(5));
    }
    if (actual == "slave") actual = "replica";
    if (actual == role) return ProtocolAnswer::ready("PONG, role " + actual);
    return ProtocolAnswer::not_ready(Failure::server_not_ready,
                                     fmt::format("role is {}, want {}", actual.empty() ? "not reported" : server_text(actual, 32), role));
}

namespace {

boost::asio::awaitable<CheckResult> attempt(CheckContext& ctx, const Target& target, Clock::time_point deadline) {
    const RedisOptions& options = target.options_as<RedisOptions>();
    Session session(ctx, "redis", deadline);
    if (auto failure = co_await session.connect(target)) co_return *failure;
    if (target.kind->name == "rediss") {
        TlsSettings tls{options.ca_file, options.server_name, !options.insecure};
        if (auto failure = co_await session.start_tls(target, tls)) co_return *failure;
    }
    if (auto failure = co_await session.write(redis_request(options.password, !options.role.empty()))) {
        co_return *failure;
    }
    std::string buffer;
    bool password_given = !options.password.empty();
    co_return co_await session.read_answer(buffer, "the PING answer", [&](std::span<const std::uint8_t> bytes) {
        return parse_redis_replies(bytes, password_given, options.role);
    });
}

}  // namespace

extern const TargetKind k_redis_kind{
    .name = "redis",
    .form = "redis://host[:port]",
    .ready_when = "PING answers PONG (or asks for a password when none is given)",
    .address = AddressForm::host_port,
    .default_port = 6379,
    .options = k_redis_options,
    .make_options = make_options,
    .locality = Locality::host,
    .attempt = attempt,
};

extern const TargetKind k_rediss_kind{
    .name = "rediss",
    .form = "rediss://host[:port]",
    .ready_when = "same, over TLS verified against the system CAs",
    .address = AddressForm::host_port,
    .default_port = 6379,
    .options = k_rediss_options,
    .make_options = make_options,
    .locality = Locality::host,
    .attempt = attempt,
};

}  // namespace healthgate::check
