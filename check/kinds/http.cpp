// http:// and https:// targets with Boost.Beast: one request per connection
// (Connection: close), same-origin redirects followed, at most max_body bytes
// of body read, and only when a body rule needs them.
#include <cctype>

#include "check/connect.hpp"
#include "check/http_exchange.hpp"
#include "common/text.hpp"

namespace healthgate::check {
namespace {

HttpOptions& http(Target& target) { return target.options_as<HttpOptions>(); }

std::optional<std::string> apply_status(Target& target, std::string_view value) {
    auto set = StatusSet::parse(value);
    if (!set) return set.error();
    http(target).statuses = *set;
    return std::nullopt;
}

std::optional<std::string> apply_body(Target& target, std::string_view value) {
    if (value.empty()) return std::string("empty body substring");
    http(target).body_contains = std::string(value);
    return std::nullopt;
}

std::optional<std::string> apply_body_regex(Target& target, std::string_view value) {
    // Compiled exactly as the check will compile it, so a pattern that passes
    // here cannot fail at check time.
    try {
        BodyRegex check(std::string(value), k_body_regex_flags);
    } catch (const std::exception& e) {
        return fmt::format("invalid regular expression: {}", e.what());
    }
    http(target).body_regex = std::string(value);
    return std::nullopt;
}

std::optional<std::string> apply_method(Target& target, std::string_view value) {
    std::string upper;
    for (char c : value) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper.empty() || upper.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) {
        return std::string("expected an HTTP method like GET or HEAD");
    }
    http(target).method = upper;
    return std::nullopt;
}

std::optional<std::string> apply_header(Target& target, std::string_view value) {
    auto colon = value.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::string("expected Name:value");
    std::string_view name = trim(value.substr(0, colon)), header_value = trim(value.substr(colon + 1));
    for (char c : name) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
            return std::string("invalid character in header name");
        }
    }
    for (char c : header_value) {
        if (c == '\r' || c == '\n') return std::string("line break in header value");
    }
    http(target).headers.emplace_back(std::string(name), std::string(header_value));
    return std::nullopt;
}

std::optional<std::string> apply_host(Target& target, std::string_view value) {
    if (value.empty() || value.find_first_of(" \r\n/") != std::string_view::npos) return std::string("invalid Host");
    http(target).host_header = std::string(value);
    return std::nullopt;
}

std::optional<std::string> apply_redirects(Target& target, std::string_view value) {
    long n = 0;
    if (auto problem = parse_whole_option(value, 0, 20, n)) return problem;
    http(target).max_redirects = static_cast<int>(n);
    return std::nullopt;
}

std::optional<std::string> apply_max_body(Target& target, std::string_view value) {
    long n = 0;
    if (auto problem = parse_whole_option(value, 0, 16 * 1024 * 1024, n)) return problem;
    http(target).max_body_bytes = static_cast<std::size_t>(n);
    return std::nullopt;
}

std::optional<std::string> apply_ca(Target& target, std::string_view value) {
    if (value.empty()) return std::string("empty path");
    http(target).ca_file = std::string(value);
    return std::nullopt;
}

std::optional<std::string> apply_sni(Target& target, std::string_view value) {
    if (!is_valid_hostname(value)) return std::string("invalid server name");
    http(target).server_name = std::string(value);
    return std::nullopt;
}

std::optional<std::string> apply_insecure(Target& target, std::string_view value) {
    return parse_bool_option(value, http(target).insecure_skip_verify);
}

#define HEALTHGATE_HTTP_OPTIONS                                                                                     \
    {"status", "200-299,304", "200-399", "accepted statuses: codes and ranges", false, apply_status},               \
        {"body", "TEXT", "", "the body must contain TEXT", false, apply_body},                                    \
        {"body_regex", "RE", "", "the body must match this ECMAScript regex", false, apply_body_regex},           \
        {"method", "HEAD", "GET", "request method", false, apply_method},                                         \
        {"header", "Name:value", "", "extra request header, repeatable", true,         \
         apply_header},                                                                                           \
        {"host", "NAME", "", "Host header override", false, apply_host},                                          \
        {"redirects", "N", "5", "same-host redirects followed (a cross-host redirect never is)", false,           \
         apply_redirects},                                                                                        \
        {"max_body", "BYTES", "65536", "body bytes read at most (matching uses that prefix)", false, apply_max_body}

const OptionSpec k_http_options[] = {HEALTHGATE_HTTP_OPTIONS};

const OptionSpec k_https_options[] = {
    HEALTHGATE_HTTP_OPTIONS,
    {"ca", "/path/ca.pem", "system CAs", "trust this CA file instead of the system CAs", false, apply_ca},
    {"sni", "NAME", "the host", "server name sent (SNI) and verified in the certificate", false, apply_sni},
    {"insecure", "true", "false", "skip certificate verification (explicit only)", false, apply_insecure},
};

std::any make_options() { return HttpOptions{}; }

using namespace http_exchange;
using asio::ip::tcp;

using namespace http_exchange;
using asio::ip::tcp;

asio::awaitable<CheckResult> attempt(CheckContext& ctx, const Target& target, Clock::time_point deadline) {
    bool https = target.kind->name == "https";
    ResolveOutcome resolved = co_await resolve_endpoints(ctx, target.host, target.port, deadline);
    if (resolved.endpoints.empty()) co_return resolved.failure;

    const BodyRegex* regex = nullptr;
    if (!target.options_as<HttpOptions>().body_regex.empty()) {
        regex = ctx.regexes.get(target.options_as<HttpOptions>().body_regex);
        if (!regex) co_return fail(Failure::other, fmt::format("invalid body_regex /{}/", target.options_as<HttpOptions>().body_regex));
    }
    Origin origin{https, target.host, target.port};
    std::string host_header = target.options_as<HttpOptions>().host_header.empty() ? default_host_header(target) : target.options_as<HttpOptions>().host_header;
    std::string path = target.path;
    std::string label = target.authority();
    std::vector<tcp::endpoint> endpoints = std::move(resolved.endpoints);
    for (int followed = 0;; ++followed) {
        beast::tcp_stream stream(ctx.io);
        ConnectOutcome connected = co_await connect_any(stream, endpoints, label, deadline);
        if (!connected.ok) co_return connected.failure;
        // Redirects go back to the address that answered.
        endpoints.assign(1, connected.endpoint);
        HopInput in{target, origin, host_header, path, followed, regex, endpoints.front(), deadline};
        // (Plain statements: GCC 12 mishandles co_await inside ?: and if-initializers.)
        Hop hop;
        if (https) {
            hop = co_await https_hop(ctx, std::move(stream), in);
        } else {
            hop = co_await http_hop(ctx, stream, in);
        }
        if (!hop.follow) co_return hop.result;
        path = std::move(hop.next_path);
    }
}

}  // namespace

extern const TargetKind k_http_kind{
    .name = "http",
    .form = "http://host[:port]/path",
    .ready_when = "status in the accepted set (default 200-399) and body match",
    .address = AddressForm::http_url,
    .default_port = 80,
    .options = k_http_options,
    .make_options = make_options,
    .locality = Locality::host,
    .attempt = attempt,
};

extern const TargetKind k_https_kind{
    .name = "https",
    .form = "https://host[:port]/path",
    .ready_when = "same, over TLS verified against the system CAs",
    .address = AddressForm::http_url,
    .default_port = 443,
    .options = k_https_options,
    .make_options = make_options,
    .locality = Locality::host,
    .attempt = attempt,
};

}  // namespace healthgate::check
