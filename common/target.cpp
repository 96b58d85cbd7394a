#include "common/target.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <fmt/format.h>

#include "common/body_regex.hpp"
#include "common/text.hpp"

namespace healthgate {
namespace {

struct SchemeInfo {
    std::string_view scheme;
    TargetKind kind;
};
constexpr SchemeInfo k_schemes[] = {
    {"tcp", TargetKind::tcp},   {"http", TargetKind::http}, {"https", TargetKind::https},
    {"dns", TargetKind::dns},   {"file", TargetKind::file}, {"unix", TargetKind::unix_socket},
};

bool is_http(TargetKind kind) { return kind == TargetKind::http || kind == TargetKind::https; }

std::optional<std::string> parse_positive(std::string_view value, long max, long& out) {
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
    if (ec != std::errc{} || ptr != value.data() + value.size() || out < 0 || out > max) {
        return fmt::format("expected a whole number from 0 to {}", max);
    }
    return std::nullopt;
}

bool valid_hostname(std::string_view host) {
    if (host.empty() || host.size() > 254) return false;
    for (char c : host) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_')) return false;
    }
    return host.find("..") == std::string_view::npos && host.front() != '.';
}

bool is_ipv6(std::string_view text) {
    in6_addr addr{};
    return ::inet_pton(AF_INET6, std::string(text).c_str(), &addr) == 1;
}

bool is_ipv4(std::string_view text) {
    in_addr addr{};
    return ::inet_pton(AF_INET, std::string(text).c_str(), &addr) == 1;
}

// Splits "host:port" / "[v6]:port" / "host"; fills target.host and target.port.
std::optional<std::string> parse_authority(std::string_view authority, Target& target, bool port_required,
                                           std::uint16_t default_port) {
    if (authority.find('@') != std::string_view::npos) {
        return std::string("credentials in the URL are not supported; use header=Authorization:...");
    }
    std::string_view host = authority, port_text;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return std::string("unclosed '[' in IPv6 address");
        host = authority.substr(1, close - 1);
        std::string_view rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return fmt::format("unexpected \"{}\" after IPv6 address", rest);
            port_text = rest.substr(1);
            if (port_text.empty()) return std::string("empty port");
        }
        if (!is_ipv6(host)) return fmt::format("invalid IPv6 address \"{}\"", host);
    } else {
        auto colon = authority.rfind(':');
        if (colon != std::string_view::npos) {
            if (authority.find(':') != colon) {
                return std::string("IPv6 addresses must be written in brackets, like tcp://[::1]:5432");
            }
            host = authority.substr(0, colon);
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) return std::string("empty port");
        }
        if (host.empty()) return std::string("missing host");
        if (!valid_hostname(host)) return fmt::format("invalid host \"{}\"", host);
    }
    target.host = std::string(host);
    if (port_text.empty()) {
        if (port_required) return std::string("missing port (write host:port)");
        target.port = default_port;
        return std::nullopt;
    }
    long port = 0;
    if (parse_positive(port_text, 65535, port) || port == 0) {
        return fmt::format("invalid port \"{}\" (1-65535)", port_text);
    }
    target.port = static_cast<std::uint16_t>(port);
    return std::nullopt;
}

}  // namespace

std::string_view kind_name(TargetKind kind) {
    for (const auto& info : k_schemes) {
        if (info.kind == kind) return info.scheme;
    }
    return "?";
}

bool Target::host_is_ip_literal() const { return is_ipv4(host) || is_ipv6(host); }

std::string Target::authority() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return port ? fmt::format("{}:{}", h, port) : h;
}

std::string target_option_names(TargetKind kind) {
    std::string common = "name, timeout";
    switch (kind) {
        case TargetKind::tcp: return common;
        case TargetKind::http:
            return common + ", status, body, body_regex, method, header, host, redirects, max_body";
        case TargetKind::https:
            return common + ", status, body, body_regex, method, header, host, redirects, max_body, ca, sni, insecure";
        case TargetKind::dns: return common + ", type, min, expect";
        case TargetKind::file: return common + ", non_empty, max_age";
        case TargetKind::unix_socket: return common;
    }
    return common;
}

std::optional<std::string> apply_target_option(Target& target, std::string_view key, std::string_view value) {
    auto invalid = [&](std::string_view why) { return fmt::format("option {}=\"{}\": {}", key, value, why); };
    auto not_for_kind = [&]() {
        return fmt::format("option \"{}\" does not apply to {}:// targets (options: {})", key,
                           kind_name(target.kind), target_option_names(target.kind));
    };
    if (key == "name") {
        if (value.empty()) return invalid("empty name");
        target.name = std::string(value);
        return std::nullopt;
    }
    if (key == "timeout") {
        auto d = parse_duration(value);
        if (!d) return invalid(d.error());
        if (d->count() <= 0) return invalid("must be positive");
        target.timeout = *d;
        return std::nullopt;
    }
    if (is_http(target.kind)) {
        HttpOptions& http = target.http;
        if (key == "status") {
            auto set = StatusSet::parse(value);
            if (!set) return invalid(set.error());
            http.statuses = *set;
            return std::nullopt;
        }
        if (key == "body") {
            if (value.empty()) return invalid("empty body substring");
            http.body_contains = std::string(value);
            return std::nullopt;
        }
        if (key == "body_regex") {
            // Compiled exactly as the check will compile it, so a pattern
            // that passes here cannot fail at check time.
            try {
                BodyRegex check(std::string(value), k_body_regex_flags);
            } catch (const std::exception& e) {
                return invalid(fmt::format("invalid regular expression: {}", e.what()));
            }
            http.body_regex = std::string(value);
            return std::nullopt;
        }
        if (key == "method") {
            std::string upper;
            for (char c : value) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            if (upper.empty() || upper.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) {
                return invalid("expected an HTTP method like GET or HEAD");
            }
            http.method = upper;
            return std::nullopt;
        }
        if (key == "header") {
            auto colon = value.find(':');
            if (colon == std::string_view::npos || colon == 0) return invalid("expected Name:value");
            std::string_view name = trim(value.substr(0, colon)), header_value = trim(value.substr(colon + 1));
            for (char c : name) {
                if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
                    return invalid("invalid character in header name");
                }
            }
            for (char c : header_value) {
                if (c == '\r' || c == '\n') return invalid("line break in header value");
            }
            http.headers.emplace_back(std::string(name), std::string(header_value));
            return std::nullopt;
        }
        if (key == "host") {
            if (value.empty() || value.find_first_of(" \r\n/") != std::string_view::npos) return invalid("invalid Host");
            http.host_header = std::string(value);
            return std::nullopt;
        }
        if (key == "redirects") {
            long n = 0;
            if (auto problem = parse_positive(value, 20, n)) return invalid(*problem);
            http.max_redirects = static_cast<int>(n);
            return std::nullopt;
        }
        if (key == "max_body") {
            long n = 0;
            if (auto problem = parse_positive(value, 16 * 1024 * 1024, n)) return invalid(*problem);
            http.max_body_bytes = static_cast<std::size_t>(n);
            return std::nullopt;
        }
        if (key == "ca" || key == "sni" || key == "insecure") {
            if (target.kind != TargetKind::https) return not_for_kind();
            if (key == "ca") {
                if (value.empty()) return invalid("empty path");
                http.ca_file = std::string(value);
            } else if (key == "sni") {
                if (!valid_hostname(value)) return invalid("invalid server name");
                http.server_name = std::string(value);
            } else if (!parse_bool(value, http.insecure_skip_verify)) {
                return invalid("expected true or false");
            }
            return std::nullopt;
        }
        return not_for_kind();
    }
    if (target.kind == TargetKind::dns) {
        if (key == "type") {
            std::string lower = to_lower(value);
            if (lower == "a") target.dns.type = DnsRecordType::a;
            else if (lower == "aaaa") target.dns.type = DnsRecordType::aaaa;
            else if (lower == "srv") target.dns.type = DnsRecordType::srv;
            else return invalid("expected A, AAAA or SRV");
            return std::nullopt;
        }
        if (key == "min") {
            long n = 0;
            if (auto problem = parse_positive(value, 1000, n)) return invalid(*problem);
            if (n < 1) return invalid("must be at least 1");
            target.dns.min_answers = static_cast<int>(n);
            return std::nullopt;
        }
        if (key == "expect") {
            if (!is_ipv4(value) && !is_ipv6(value)) return invalid("expected an IPv4 or IPv6 address");
            target.dns.expect_address = std::string(value);
            return std::nullopt;
        }
        return not_for_kind();
    }
    if (target.kind == TargetKind::file) {
        if (key == "non_empty") {
            if (!parse_bool(value, target.file.non_empty)) return invalid("expected true or false");
            return std::nullopt;
        }
        if (key == "max_age") {
            auto d = parse_duration(value);
            if (!d) return invalid(d.error());
            if (d->count() <= 0) return invalid("must be positive");
            target.file.max_age = *d;
            return std::nullopt;
        }
        return not_for_kind();
    }
    return not_for_kind();
}

std::optional<std::string> check_option_combination(const Target& target) {
    if (target.kind == TargetKind::dns && target.dns.type == DnsRecordType::srv && !target.dns.expect_address.empty()) {
        return std::string("expect= compares addresses, but SRV answers are host names: use type=A or AAAA");
    }
    if (target.kind == TargetKind::dns && !target.dns.expect_address.empty()) {
        bool v6 = target.dns.expect_address.find(':') != std::string::npos;
        if (v6 != (target.dns.type == DnsRecordType::aaaa)) {
            return fmt::format("expect={} can never be an {} answer", target.dns.expect_address,
                               target.dns.type == DnsRecordType::aaaa ? "AAAA" : "A");
        }
    }
    return std::nullopt;
}

Expected<Target> parse_target(std::string_view url) {
    auto bad = [&](std::string_view why) { return make_error(fmt::format("invalid target \"{}\": {}", url, why)); };
    Target target;
    target.url = std::string(url);
    auto sep = url.find("://");
    if (sep == std::string_view::npos) {
        return bad("expected a URL like tcp://host:port, http://host/path, dns://name, file:///path or unix:///path");
    }
    std::string scheme = to_lower(url.substr(0, sep));
    bool known = false;
    for (const auto& info : k_schemes) {
        if (info.scheme == scheme) target.kind = info.kind, known = true;
    }
    if (!known) return bad(fmt::format("unknown scheme \"{}\" (use tcp, http, https, dns, file or unix)", scheme));

    std::string_view rest = url.substr(sep + 3);
    // Options: after '#' for every kind; after '?' too, except for http(s).
    std::string_view options;
    if (auto hash = rest.find('#'); hash != std::string_view::npos) {
        options = rest.substr(hash + 1);
        rest = rest.substr(0, hash);
    }
    if (!is_http(target.kind)) {
        if (auto q = rest.find('?'); q != std::string_view::npos) {
            if (!options.empty()) return bad("options given both after '?' and after '#'");
            options = rest.substr(q + 1);
            rest = rest.substr(0, q);
        }
    }
    target.name = std::string(url.substr(0, url.size() - (options.empty() ? 0 : options.size() + 1)));

    switch (target.kind) {
        case TargetKind::file:
        case TargetKind::unix_socket: {
            std::string path;
            if (!percent_decode(rest, path)) return bad("invalid %-escape in path");
            if (path.empty() || path.front() != '/') {
                return bad(fmt::format("expected an absolute path: {}:///path/to/{}", scheme,
                                       target.kind == TargetKind::file ? "file" : "socket"));
            }
            target.path = path;
            break;
        }
        case TargetKind::dns: {
            if (rest.find('/') != std::string_view::npos) return bad("a dns:// target is a name only: dns://name");
            if (rest.empty()) return bad("missing name");
            if (!valid_hostname(rest)) return bad(fmt::format("invalid DNS name \"{}\"", rest));
            target.host = std::string(rest);
            break;
        }
        case TargetKind::tcp: {
            if (auto slash = rest.find('/'); slash != std::string_view::npos) {
                if (slash + 1 != rest.size()) return bad("a tcp:// target has no path");
                rest = rest.substr(0, slash);
            }
            if (auto problem = parse_authority(rest, target, true, 0)) return bad(*problem);
            break;
        }
        case TargetKind::http:
        case TargetKind::https: {
            auto slash = rest.find_first_of("/?");
            std::string_view authority = rest.substr(0, slash);
            target.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
            if (target.path.front() == '?') target.path.insert(target.path.begin(), '/');
            for (char c : target.path) {
                if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("space or control character in path (use %20)");
            }
            if (auto problem = parse_authority(authority, target, false, target.kind == TargetKind::https ? 443 : 80)) {
                return bad(*problem);
            }
            break;
        }
    }

    if (!options.empty()) {
        for (std::string_view item : split(options, '&')) {
            if (item.empty()) continue;
            auto eq = item.find('=');
            std::string key, value;
            if (!percent_decode(item.substr(0, eq), key) ||
                !percent_decode(eq == std::string_view::npos ? "true" : item.substr(eq + 1), value)) {
                return bad(fmt::format("invalid %-escape in option \"{}\"", item));
            }
            if (auto problem = apply_target_option(target, key, value)) return bad(*problem);
        }
    }
    if (auto problem = check_option_combination(target)) return bad(*problem);
    return target;
}

}  // namespace healthgate
