// postgres://host[:5432]: a StartupMessage (optionally after SSLRequest and a
// TLS handshake), ready when the server asks for authentication or refuses
// this role/database/password, which proves it accepts connections. No
// password is ever sent: the check needs no credentials.
#include "check/kinds/postgres.hpp"

#include <fmt/format.h>

#include "common/text.hpp"

namespace healthgate::check {
namespace {

enum class SslMode { disable, prefer, require, verify_full };

struct PostgresOptions {
    std::string user = "healthgate";
    std::string database = "postgres";
    SslMode sslmode = SslMode::disable;
    std::string ca_file;
};

PostgresOptions& pg(Target& target) { return target.options_as<PostgresOptions>(); }

std::optional<std::string> apply_name_text(std::string_view value, std::string& out) {
    if (value.empty() || value.size() > 63) return std::string("expected 1 to 63 characters");
    if (value.find('\0') != std::string_view::npos) return std::string("NUL character");
    out = std::string(value);
    return std::nullopt;
}

std::optional<std::string> apply_user(Target& target, std::string_view value) {
    return apply_name_text(value, pg(target).user);
}

std::optional<std::string> apply_database(Target& target, std::string_view value) {
    return apply_name_text(value, pg(target).database);
}

std::optional<std::string> apply_sslmode(Target& target, std::string_view value) {
    std::string mode = to_lower(value);
    if (mode == "disable") pg(target).sslmode = SslMode::disable;
    else if (mode == "prefer") pg(target).sslmode = SslMode::prefer;
    else if (mode == "require") pg(target).sslmode = SslMode::require;
    else if (mode == "verify-full") pg(target).sslmode = SslMode::verify_full;
    else return std::string("expected disable, prefer, require or verify-full");
    return std::nullopt;
}

std::optional<std::string> apply_ca(Target& target, std::string_view value) {
    return parse_nonempty_option(value, pg(target).ca_file);
}

const OptionSpec k_options[] = {
    {"user", "NAME", "healthgate", "role named in the startup message (no password is sent)", false, apply_user},
    {"database", "NAME", "postgres", "database named in the startup message", false, apply_database},
    {"sslmode", "disable|prefer|require|verify-full", "disable",
     "TLS via SSLRequest: prefer falls back to plain, require does not verify, verify-full checks CA and name", false,
     apply_sslmode},
    {"ca", "/path/ca.pem", "system CAs", "CA file for sslmode=verify-full", false, apply_ca},
};

std::optional<std::string> check_combination(const Target& target) {
    const PostgresOptions& options = target.options_as<PostgresOptions>();
    if (!options.ca_file.empty() && options.sslmode != SslMode::verify_full) {
        return std::string("ca= is used by sslmode=verify-full only");
    }
    return std::nullopt;
}

std::any make_options() { return PostgresOptions{}; }

std::uint32_t be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

void put32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

std::string_view auth_name(std::uint32_t code) {
    switch (code) {
        case 0: return "lets this role in without a password";
        case 2: return "asks for Kerberos authentication";
        case 3: return "asks for a password";
        case 5: return "asks for an MD5 password";
        case 7: return "asks for GSSAPI authentication";
        case 9: return "asks for SSPI authentication";
        case 10: return "asks for SCRAM authentication";
        default: return "asks for authentication";
    }
}

ProtocolAnswer classify_error(std::span<const std::uint8_t> fields) {
    std::string code, message;
    std::size_t pos = 0;
    while (pos < fields.size() && fields[pos] != 0) {
        char type = static_cast<char>(fields[pos++]);
        std::size_t end = pos;
        while (end < fields.size() && fields[end] != 0) ++end;
        if (end == fields.size()) return ProtocolAnswer::protocol_error("malformed ErrorResponse");
        std::string_view value(reinterpret_cast<const char*>(fields.data() + pos), end - pos);
        if (type == 'C') code = server_text(value, 5);
        else if (type == 'M') message = server_text(value, 300);
        pos = end + 1;
    }
    if (code.size() != 5) return ProtocolAnswer::protocol_error("ErrorResponse without a SQLSTATE");
    std::string text = fmt::format("{} {}", code, message);
    if (code == "28P01" || code == "28000" || code == "3D000") {
        return ProtocolAnswer::ready("accepts connections (" + text + ")");
    }
    return ProtocolAnswer::not_ready(Failure::server_not_ready, text);
}

}  // namespace

std::string postgres_startup_message(std::string_view user, std::string_view database) {
    std::string body;
    put32(body, 196608);  // protocol 3.0
    for (std::string_view part : {std::string_view("user"), user, std::string_view("database"), database,
                                  std::string_view("application_name"), std::string_view("healthgate")}) {
        body.append(part).push_back('\0');
    }
    body.push_back('\0');
    std::string message;
    put32(message, static_cast<std::uint32_t>(body.size() + 4));
    return message + body;
}

std::string postgres_ssl_request() {
    std::string message;
    put32(message, 8);
    put32(message, 80877103);
    return message;
}

ProtocolAnswer parse_postgres_reply(std::span<const std::uint8_t> bytes) {
    std::size_t pos = 0;
    while (true) {
        if (bytes.size() - pos < 5) return ProtocolAnswer::incomplete();
        char type = static_cast<char>(bytes[pos]);
        std::uint32_t length = be32(bytes.data() + pos + 1);
        if (std::string_view("RENvSKZ").find(type) == std::string_view::npos || length < 4 || length > 64 * 1024) {
            return ProtocolAnswer::protocol_error(
                fmt::format("not a postgres answer (starts with \"{}\")",
                            server_text(std::string_view(reinterpret_cast<const char*>(bytes.data() + pos),
                                                         std::min<std::size_t>(bytes.size() - pos, 16)), 16)));
        }
        if (bytes.size() - pos - 1 < length) return ProtocolAnswer::incomplete();
        auto payload = bytes.subspan(pos + 5, length - 4);
        if (type == 'R') {
            if (payload.size() < 4) return ProtocolAnswer::protocol_error("short authentication request");
            return ProtocolAnswer::ready(fmt::format("accepts connections ({})", auth_name(be32(payload.data()))));
        }
        if (type == 'E') return classify_error(payload);
        pos += 1 + length;  // a notice or a protocol-version negotiation: the answer follows
    }
}

namespace {

boost::asio::awaitable<CheckResult> attempt(CheckContext& ctx, const Target& target, Clock::time_point deadline) {
    const PostgresOptions& options = target.options_as<PostgresOptions>();
    Session session(ctx, "postgres", deadline);
    if (auto failure = co_await session.connect(target)) co_return *failure;
    if (options.sslmode != SslMode::disable) {
        if (auto failure = co_await session.write(postgres_ssl_request())) co_return *failure;
        std::string answer;
        if (auto failure = co_await session.read_some(answer, "the SSLRequest answer")) co_return *failure;
        if (answer[0] == 'S') {
            TlsSettings tls{options.ca_file, "", options.sslmode == SslMode::verify_full};
            if (auto failure = co_await session.start_tls(target, tls)) co_return *failure;
        } else if (answer[0] == 'E') {
            // A server too old for SSLRequest answers with an error, then closes.
            co_return session.result_of(ProtocolAnswer::not_ready(Failure::other, "the server refused SSLRequest"));
        } else if (answer[0] != 'N' || answer.size() != 1) {
            co_return session.result_of(ProtocolAnswer::protocol_error("unexpected answer to SSLRequest"));
        } else if (options.sslmode != SslMode::prefer) {
            co_return session.result_of(ProtocolAnswer::not_ready(
                Failure::tls_handshake, "the server does not do TLS (sslmode=require/verify-full asked for it)"));
        }
    }
    if (auto failure = co_await session.write(postgres_startup_message(options.user, options.database))) {
        co_return *failure;
    }
    std::string buffer;
    co_return co_await session.read_answer(buffer, "the startup answer", parse_postgres_reply);
}

}  // namespace

extern const TargetKind k_postgres_kind{
    .name = "postgres",
    .alias = "postgresql",
    .form = "postgres://host[:port]",
    .ready_when = "asks for authentication, or refuses this role/database/password (up)",
    .address = AddressForm::host_port,
    .default_port = 5432,
    .options = k_options,
    .make_options = make_options,
    .check_combination = check_combination,
    .locality = Locality::host,
    .attempt = attempt,
};

}  // namespace healthgate::check
