// grpc://host:port (HTTP/2 over plain TCP, "h2c" with prior knowledge) and
// grpcs://host[:443] (TLS, ALPN h2, mTLS): grpc.health.v1.Health/Check for
// each service, all on one connection as concurrent streams, or one
// Health/List. nghttp2 does the HTTP/2 framing in memory; the bytes move
// through the Asio stream here. The messages: check/grpc_health.*.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <fmt/format.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include "check/check_context.hpp"
#include "check/connect.hpp"
#include "check/grpc_health.hpp"
#include "check/tls_context.hpp"
#include "common/target.hpp"
#include "common/text.hpp"

namespace healthgate::check {
namespace {

struct GrpcOptions {
    std::vector<std::string> services;                         // empty: the whole server
    bool list = false;
    std::vector<std::pair<std::string, std::string>> headers;  // request metadata
    std::string ca_file;
    std::string server_name;                                   // SNI, certificate name, :authority
    bool insecure_skip_verify = false;
    std::string cert_file;                                     // mTLS, with key_file
    std::string key_file;
};

GrpcOptions& grpc_options(Target& target) { return target.options_as<GrpcOptions>(); }
bool is_tls(const Target& target) { return target.kind->name == "grpcs"; }

std::optional<std::string> apply_service(Target& target, std::string_view value) {
    auto& services = grpc_options(target).services;
    services.clear();
    for (std::string_view name : split(value, ',')) {
        name = trim(name);
        if (name.find_first_of(" \r\n") != std::string_view::npos) return std::string("invalid service name");
        services.emplace_back(name);
    }
    return std::nullopt;
}

std::optional<std::string> apply_list(Target& target, std::string_view value) {
    return parse_bool_option(value, grpc_options(target).list);
}

// Metadata names are HTTP/2 header names: lower case on the wire.
std::optional<std::string> apply_header(Target& target, std::string_view value) {
    auto colon = value.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::string("expected Name:value");
    std::string name = to_lower(trim(value.substr(0, colon)));
    std::string_view metadata = trim(value.substr(colon + 1));
    for (char c : name) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
            return std::string("invalid character in metadata name");
        }
    }
    if (metadata.find_first_of("\r\n") != std::string_view::npos) return std::string("line break in metadata value");
    grpc_options(target).headers.emplace_back(std::move(name), std::string(metadata));
    return std::nullopt;
}

std::optional<std::string> apply_ca(Target& target, std::string_view value) {
    return parse_nonempty_option(value, grpc_options(target).ca_file);
}

std::optional<std::string> apply_sni(Target& target, std::string_view value) {
    if (!is_valid_hostname(value)) return std::string("invalid server name");
    grpc_options(target).server_name = std::string(value);
    return std::nullopt;
}

std::optional<std::string> apply_insecure(Target& target, std::string_view value) {
    return parse_bool_option(value, grpc_options(target).insecure_skip_verify);
}

std::optional<std::string> apply_cert(Target& target, std::string_view value) {
    return parse_nonempty_option(value, grpc_options(target).cert_file);
}

std::optional<std::string> apply_key(Target& target, std::string_view value) {
    return parse_nonempty_option(value, grpc_options(target).key_file);
}

std::optional<std::string> check_combination(const Target& target) {
    const GrpcOptions& options = target.options_as<GrpcOptions>();
    if (options.cert_file.empty() != options.key_file.empty()) {
        return std::string("cert= and key= go together (a client certificate and its private key)");
    }
    return std::nullopt;
}

#define HEALTHGATE_GRPC_OPTIONS                                                                                   \
    {"service", "a,b", "the whole server", "the services that must be SERVING (Health/Check each)", false,      \
     apply_service},                                                                                             \
        {"list", "true", "false", "ask Health/List (one [+]/[-] line a service); without it on the server, Check", \
         false, apply_list},                                                                                     \
        {"header", "Name:value", "", "request metadata, repeatable", true, apply_header}

const OptionSpec k_grpc_options[] = {HEALTHGATE_GRPC_OPTIONS};
const OptionSpec k_grpcs_options[] = {
    HEALTHGATE_GRPC_OPTIONS,
    {"ca", "/path/ca.pem", "system CAs", "trust this CA file instead of the system CAs", false, apply_ca},
    {"sni", "NAME", "the host", "server name sent (SNI), verified in the certificate, and the :authority", false,
     apply_sni},
    {"insecure", "true", "false", "skip certificate verification (explicit only)", false, apply_insecure},
    {"cert", "/path/client.pem", "", "client certificate (PEM, chain after the leaf) for mTLS, with key=", false,
     apply_cert},
    {"key", "/path/client.key", "", "the client certificate's private key (PEM)", false, apply_key},
};

std::any make_options() { return GrpcOptions{}; }

namespace asio = boost::asio;
namespace beast = boost::beast;
using grpc::RpcAnswer;

constexpr std::size_t k_max_body = 256 * 1024;  // a List of many services fits
constexpr std::size_t k_read_chunk = 16 * 1024;

CheckResult fail(Failure failure, std::string reason) { return CheckResult{failure, std::move(reason), {}}; }

// One unary call on its own HTTP/2 stream.
struct Rpc {
    std::string service;  // Check: the service asked about
    std::string request;  // the framed request message
    std::size_t sent = 0;
    bool closed = false;
    std::uint32_t reset_code = 0;  // RST_STREAM's error code, when reset
    RpcAnswer answer;
};

// The nghttp2 client session and what its callbacks learn.
class H2Session {
public:
    H2Session() {
        nghttp2_session_callbacks* callbacks = nullptr;
        nghttp2_session_callbacks_new(&callbacks);
        nghttp2_session_callbacks_set_on_header_callback(callbacks, &on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &on_data);
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &on_close);
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &on_frame);
        nghttp2_session_callbacks_set_error_callback2(callbacks, &on_error);
        nghttp2_session_client_new(&session_, callbacks, this);
        nghttp2_session_callbacks_del(callbacks);
        nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
        nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 1);
    }
    ~H2Session() { nghttp2_session_del(session_); }
    H2Session(const H2Session&) = delete;
    H2Session& operator=(const H2Session&) = delete;

    bool submit(Rpc& rpc, const std::vector<nghttp2_nv>& headers) {
        nghttp2_data_provider body{};
        body.source.ptr = &rpc;
        body.read_callback = &read_request;
        return nghttp2_submit_request(session_, nullptr, headers.data(), headers.size(), &body, &rpc) > 0;
    }

    // Everything nghttp2 wants to send now; false on a fatal session error.
    bool take_output(std::string& out) {
        for (;;) {
            const std::uint8_t* data = nullptr;
            auto n = nghttp2_session_mem_send(session_, &data);
            if (n < 0) {
                note_error(nghttp2_strerror(static_cast<int>(n)));
                return false;
            }
            if (n == 0) return true;
            out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
        }
    }

    bool feed(const char* data, std::size_t size) {
        auto n = nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(data), size);
        if (n < 0) note_error(nghttp2_strerror(static_cast<int>(n)));
        return n >= 0;
    }

    bool wants_io() const { return nghttp2_session_want_read(session_) || nghttp2_session_want_write(session_); }

    const std::string& error() const { return error_; }          // nghttp2's first complaint
    std::uint32_t goaway_code() const { return goaway_code_; }
    bool goaway() const { return goaway_; }

private:
    static Rpc* rpc_of(nghttp2_session* session, std::int32_t stream_id) {
        return static_cast<Rpc*>(nghttp2_session_get_stream_user_data(session, stream_id));
    }

    static ssize_t read_request(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                                std::uint32_t* flags, nghttp2_data_source* source, void*) {
        auto* rpc = static_cast<Rpc*>(source->ptr);
        std::size_t n = std::min(length, rpc->request.size() - rpc->sent);
        std::copy_n(rpc->request.data() + rpc->sent, n, buf);
        rpc->sent += n;
        if (rpc->sent == rpc->request.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
        return static_cast<ssize_t>(n);
    }

    static int on_header(nghttp2_session* session, const nghttp2_frame* frame, const std::uint8_t* name,
                         std::size_t namelen, const std::uint8_t* value, std::size_t valuelen, std::uint8_t, void*) {
        Rpc* rpc = rpc_of(session, frame->hd.stream_id);
        if (!rpc) return 0;
        std::string_view n(reinterpret_cast<const char*>(name), namelen);
        std::string_view v(reinterpret_cast<const char*>(value), valuelen);
        if (n == ":status") {
            int status = 0;
            for (char c : v) status = status * 10 + (c - '0');
            rpc->answer.http_status = status;
        } else if (n == "grpc-status") {
            int status = 0;
            for (char c : v) status = status * 10 + (c - '0');
            rpc->answer.grpc_status = status;
        } else if (n == "grpc-message") {
            rpc->answer.grpc_message = grpc::decode_grpc_message(v.substr(0, 512));
        }
        return 0;
    }

    static int on_data(nghttp2_session* session, std::uint8_t, std::int32_t stream_id, const std::uint8_t* data,
                       std::size_t len, void*) {
        Rpc* rpc = rpc_of(session, stream_id);
        if (!rpc) return 0;
        if (rpc->answer.body.size() + len > k_max_body) return NGHTTP2_ERR_CALLBACK_FAILURE;
        rpc->answer.body.append(reinterpret_cast<const char*>(data), len);
        return 0;
    }

    static int on_close(nghttp2_session* session, std::int32_t stream_id, std::uint32_t error_code, void*) {
        if (Rpc* rpc = rpc_of(session, stream_id)) {
            rpc->closed = true;
            rpc->reset_code = error_code;
        }
        return 0;
    }

    static int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
        if (frame->hd.type == NGHTTP2_GOAWAY) {
            auto* self = static_cast<H2Session*>(user);
            self->goaway_ = true;
            self->goaway_code_ = frame->goaway.error_code;
        }
        return 0;
    }

    static int on_error(nghttp2_session*, int, const char* msg, std::size_t len, void* user) {
        static_cast<H2Session*>(user)->note_error(std::string_view(msg, std::min<std::size_t>(len, 200)));
        return 0;
    }

    void note_error(std::string_view text) {
        if (error_.empty()) error_ = std::string(text);
    }

    nghttp2_session* session_ = nullptr;
    std::string error_;
    bool goaway_ = false;
    std::uint32_t goaway_code_ = 0;
};

nghttp2_nv header(std::string_view name, std::string_view value, std::uint8_t flags = NGHTTP2_NV_FLAG_NONE) {
    return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                      reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                      flags};
}

bool all_closed(const std::vector<Rpc>& rpcs) {
    return std::all_of(rpcs.begin(), rpcs.end(), [](const Rpc& rpc) { return rpc.closed; });
}

struct CallInput {
    const Target& target;
    std::string peer;           // "10.0.0.1:50051"
    std::string authority;      // :authority
    std::string_view path;      // Check or List
    Clock::time_point deadline; // the RPC's, also sent as grpc-timeout
};

// The transport's failure while calls are open: timeouts, resets, TLS alerts.
CheckResult transport_failure(const boost::system::error_code& ec, const CallInput& in, const H2Session& h2,
                              Clock::time_point started, std::string_view first_bytes) {
    if (ec == beast::error::timeout) {
        return fail(Failure::read_timeout, fmt::format("no gRPC answer from {} within {} ({})", in.peer,
                                                       budget_text(in.deadline - started), in.path));
    }
    if (first_bytes.starts_with("HTTP/")) {
        return fail(Failure::http_protocol,
                    fmt::format("{} answered HTTP/1, not HTTP/2: is it a gRPC port?", in.peer));
    }
    if (!first_bytes.empty() && first_bytes[0] == '\x15' && !is_tls(in.target)) {
        return fail(Failure::http_protocol, fmt::format("{} answered with a TLS alert: use grpcs://", in.peer));
    }
    bool closed = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
                  ec == asio::error::connection_reset || ec.category() == asio::error::get_ssl_category();
    if (closed && first_bytes.empty() && is_tls(in.target) && in.target.options_as<GrpcOptions>().cert_file.empty()) {
        // With TLS 1.3 a server checks the client's certificate after the
        // handshake, so a missing one shows only as the connection ending.
        return fail(Failure::tls_handshake,
                    fmt::format("{} ended the TLS session before answering ({}): does it require a client "
                                "certificate? (cert= and key=)", in.peer, ec ? ec.message() : "closed"));
    }
    if (ec.category() == asio::error::get_ssl_category()) {
        std::string why = ec.message();
        std::string hint = why.find("certificate") != std::string::npos && in.target.options_as<GrpcOptions>().cert_file.empty()
                               ? " (the server wants a client certificate: cert= and key=)"
                               : "";
        return fail(Failure::tls_handshake, fmt::format("{} ended the TLS session: {}{}", in.peer, why, hint));
    }
    if (!h2.error().empty() && h2.error().find("SETTINGS") != std::string::npos) {
        return fail(Failure::http_protocol, fmt::format("{} answered, but not HTTP/2: is it a gRPC port?", in.peer));
    }
    if (!h2.error().empty()) {
        return fail(Failure::http_protocol, fmt::format("HTTP/2 error with {}: {}", in.peer, h2.error()));
    }
    if (h2.goaway() && h2.goaway_code() != NGHTTP2_NO_ERROR) {
        return fail(Failure::http_protocol, fmt::format("{} ended the HTTP/2 connection: {}", in.peer,
                                                        nghttp2_http2_strerror(h2.goaway_code())));
    }
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated || !ec) {
        return fail(Failure::connection_reset,
                    fmt::format("{} closed the connection before answering {} (is it a gRPC port?)", in.peer, in.path));
    }
    if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe) {
        return fail(Failure::connection_reset, fmt::format("connection reset by {} during {}", in.peer, in.path));
    }
    return fail(Failure::other, fmt::format("{} {}: {}", in.peer, in.path, ec.message()));
}

// Runs the calls in `rpcs` (one stream each) to completion over `stream`.
// Returns a failure when the connection failed before every call ended.
template <class Stream>
asio::awaitable<std::optional<CheckResult>> run_calls(Stream& stream, H2Session& h2, std::vector<Rpc>& rpcs,
                                                      const CallInput& in) {
    std::string scheme = is_tls(in.target) ? "https" : "http";
    std::string timeout = grpc::grpc_timeout(
        std::chrono::duration_cast<std::chrono::milliseconds>(in.deadline - Clock::now()));
    std::string user_agent = "healthgate/" HEALTHGATE_VERSION;
    std::vector<std::string> names;  // lower-case metadata names (HTTP/2 wants them so)
    const auto& metadata = in.target.options_as<GrpcOptions>().headers;
    for (const auto& [name, value] : metadata) {
        std::string lower;
        for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        names.push_back(std::move(lower));
    }
    for (Rpc& rpc : rpcs) {
        std::vector<nghttp2_nv> headers = {
            header(":method", "POST"),       header(":scheme", scheme),
            header(":path", in.path),        header(":authority", in.authority),
            header("te", "trailers"),        header("content-type", "application/grpc"),
            header("grpc-timeout", timeout), header("user-agent", user_agent),
        };
        // Metadata may carry a token: never put it in the HPACK table.
        for (std::size_t i = 0; i < names.size(); ++i) {
            headers.push_back(header(names[i], metadata[i].second, NGHTTP2_NV_FLAG_NO_INDEX));
        }
        if (!h2.submit(rpc, headers)) co_return fail(Failure::other, "cannot start an HTTP/2 stream");
    }
    auto started = Clock::now();
    beast::get_lowest_layer(stream).expires_at(in.deadline);
    std::string out, first_bytes;
    char chunk[k_read_chunk];
    for (;;) {
        out.clear();
        if (!h2.take_output(out)) co_return transport_failure({}, in, h2, started, first_bytes);
        if (!out.empty()) {
            auto [ec, n] = co_await asio::async_write(stream, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
            if (ec) co_return transport_failure(ec, in, h2, started, first_bytes);
        }
        if (all_closed(rpcs)) co_return std::nullopt;
        if (!h2.wants_io()) co_return transport_failure({}, in, h2, started, first_bytes);
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
        if (first_bytes.empty() && n > 0) first_bytes.assign(chunk, std::min<std::size_t>(n, 8));
        if (ec) co_return transport_failure(ec, in, h2, started, first_bytes);
        if (first_bytes.starts_with("HTTP/") || !h2.feed(chunk, n)) {
            co_return transport_failure({}, in, h2, started, first_bytes);
        }
    }
}

// "service=orders", or "service=" for the whole server: a probe line's suffix.
std::string part_name(std::string_view service) { return fmt::format("service={}", service); }

// Check for each service, or List; then the verdict.
template <class Stream>
asio::awaitable<CheckResult> health_calls(Stream& stream, CallInput in) {
    const GrpcOptions& options = in.target.options_as<GrpcOptions>();
    H2Session h2;  // one connection for every call
    std::vector<Rpc> rpcs;
    std::string list_note;
    if (options.list) {
        in.path = grpc::k_list_path;
        rpcs.resize(1);
        rpcs[0].request = grpc::frame_message("");
        auto failed = co_await run_calls(stream, h2, rpcs, in);
        if (failed) co_return *failed;
        grpc::ListAnswer listed = grpc::judge_list(rpcs[0].answer, in.peer);
        if (!listed.unimplemented) {
            if (listed.failure.failure != Failure::none) co_return listed.failure;
            CheckResult verdict = grpc::judge_listed(listed.statuses, options.services, in.peer);
            for (const auto& [name, status] : listed.statuses) {
                bool wanted = options.services.empty() ||
                              std::find(options.services.begin(), options.services.end(), name) != options.services.end();
                bool serving = status == static_cast<int>(grpc::ServingStatus::serving);
                if (wanted) verdict.parts.push_back({part_name(name), serving, serving ? "" : grpc::serving_status_name(status)});
            }
            co_return verdict;
        }
        // No List on this server: Check on the same connection instead.
        list_note = " (the server has no Health/List; checked with Health/Check)";
        rpcs.clear();
    }
    in.path = grpc::k_check_path;
    std::vector<std::string> services = options.services;
    if (services.empty()) services.emplace_back();
    rpcs.resize(services.size());
    for (std::size_t i = 0; i < services.size(); ++i) {
        rpcs[i].service = services[i];
        rpcs[i].request = grpc::frame_message(grpc::encode_check_request(services[i]));
    }
    auto failed = co_await run_calls(stream, h2, rpcs, in);
    if (failed) co_return *failed;
    CheckResult verdict;
    std::vector<CheckResult::Part> parts;
    for (const Rpc& rpc : rpcs) {
        CheckResult one = grpc::judge_check(rpc.answer, rpc.service, in.peer);
        if (options.list) parts.push_back({part_name(rpc.service), one.ok(), one.reason});
        if (one.ok()) continue;
        if (verdict.ok()) verdict = std::move(one);
        else verdict.reason += "; " + one.reason;
    }
    if (!verdict.ok()) verdict.reason += list_note;
    verdict.parts = std::move(parts);
    co_return verdict;
}

asio::awaitable<CheckResult> grpcs_calls(CheckContext& ctx, beast::tcp_stream&& tcp, CallInput in,
                                         Clock::time_point connect_deadline) {
    const GrpcOptions& options = in.target.options_as<GrpcOptions>();
    auto context = ctx.tls.get(options.ca_file, options.insecure_skip_verify, options.cert_file, options.key_file);
    if (!context) co_return fail(Failure::other, context.error());
    std::string certificate;  // declared first: the SSL object points to it until it goes
    asio::ssl::stream<beast::tcp_stream> tls(std::move(tcp), **context);
    const std::string& name = options.server_name.empty() ? in.target.host : options.server_name;
    if (auto problem = prepare_tls_connection(tls.native_handle(), name, !options.insecure_skip_verify);
        !problem.empty()) {
        co_return fail(Failure::other, "TLS: " + problem);
    }
    static constexpr unsigned char k_alpn_h2[] = {2, 'h', '2'};
    SSL_set_alpn_protos(tls.native_handle(), k_alpn_h2, sizeof k_alpn_h2);
    attach_certificate_note(tls.native_handle(), &certificate);
    auto start = Clock::now();
    beast::get_lowest_layer(tls).expires_at(connect_deadline);
    auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    if (ec) {
        if (ec == beast::error::timeout) {
            co_return fail(Failure::tls_handshake, fmt::format("TLS handshake with {} timed out after {}", in.peer,
                                                               budget_text(connect_deadline - start)));
        }
        std::string why = options.insecure_skip_verify ? std::string()
                                                       : describe_verify_failure(tls.native_handle(), name, certificate);
        if (!why.empty()) co_return fail(Failure::tls_verify, "TLS: " + why);
        co_return fail(Failure::tls_handshake, fmt::format("TLS handshake with {} failed: {}", in.peer,
                                                           ec == asio::error::eof ? "connection closed by the server"
                                                                                  : ec.message()));
    }
    const unsigned char* alpn = nullptr;
    unsigned alpn_length = 0;
    SSL_get0_alpn_selected(tls.native_handle(), &alpn, &alpn_length);
    if (alpn_length != 2 || alpn[0] != 'h' || alpn[1] != '2') {
        co_return fail(Failure::http_protocol,
                       fmt::format("{} did not agree to HTTP/2 (ALPN h2) over TLS: is it a gRPC port?", in.peer));
    }
    co_return co_await health_calls(tls, std::move(in));
}

// The connection (lookup, TCP, TLS) gets at most half of the attempt's time,
// the calls the rest, which the server also learns as grpc-timeout: a server
// that is slow to accept is told apart from one slow to answer.
asio::awaitable<CheckResult> attempt(CheckContext& ctx, const Target& target, Clock::time_point deadline) {
    auto connect_deadline = Clock::now() + (deadline - Clock::now()) / 2;
    ResolveOutcome resolved = co_await resolve_endpoints(ctx, target.host, target.port, connect_deadline);
    if (resolved.endpoints.empty()) co_return resolved.failure;
    beast::tcp_stream stream(ctx.io);
    ConnectOutcome connected = co_await connect_any(stream, resolved.endpoints, target.authority(), connect_deadline);
    if (!connected.ok) co_return connected.failure;
    stream.socket().set_option(asio::ip::tcp::no_delay(true));
    const GrpcOptions& options = target.options_as<GrpcOptions>();
    bool default_port = is_tls(target) && target.port == 443;
    std::string authority = options.server_name.empty() ? target.authority() : options.server_name;
    if (!options.server_name.empty() && !default_port) authority += fmt::format(":{}", target.port);
    CallInput in{target, format_endpoint(connected.endpoint), authority, grpc::k_check_path, deadline};
    if (is_tls(target)) co_return co_await grpcs_calls(ctx, std::move(stream), in, connect_deadline);
    co_return co_await health_calls(stream, in);
}

}  // namespace

extern const TargetKind k_grpc_kind{
    .name = "grpc",
    .form = "grpc://host:port",
    .ready_when = "Health/Check answers SERVING for each service= (HTTP/2, no TLS)",
    .address = AddressForm::host_port,
    .options = k_grpc_options,
    .make_options = make_options,
    .check_combination = check_combination,
    .locality = Locality::host,
    .attempt = attempt,
};

extern const TargetKind k_grpcs_kind{
    .name = "grpcs",
    .form = "grpcs://host[:port]",
    .ready_when = "same, over verified TLS (ALPN h2); cert= + key= for mTLS",
    .address = AddressForm::host_port,
    .default_port = 443,
    .options = k_grpcs_options,
    .make_options = make_options,
    .check_combination = check_combination,
    .locality = Locality::host,
    .attempt = attempt,
};

}  // namespace healthgate::check
