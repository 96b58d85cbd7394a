#include "common/target.hpp"

#include <arpa/inet.h>
#include <algorithm>
#include <charconv>
#include <fmt/format.h>

#include "common/body_regex.hpp"
#include "common/text.hpp"

namespace healthgate {
namespace {

std::optional<std::string> parse_positive(std::string_view value, long max, long& out) {
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
    if (ec != std::errc{} || ptr != value.data() + value.size() || out < 0 || out > max) {
        return fmt::format("expected a whole number from 0 to {}", max);
    }
    return std::nullopt;
}

bool valid_hostname_text(std::string_view host) {
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
        if (!valid_hostname_text(host)) return fmt::format("invalid host \"{}\"", host);
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


// At most max_bytes of text, control characters as '?', "..." when cut: quoted text stays one bounded line.
std::string one_line(std::string_view text, std::size_t max_bytes) {
    std::string out(utf8_prefix(text, max_bytes));
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    if (out.size() < text.size()) out += "...";
    return out;
}

// The common options, valid for every kind.
std::optional<std::string> apply_name(Target& target, std::string_view value) {
    if (value.empty()) return std::string("empty name");
    target.name = std::string(value);
    return std::nullopt;
}

std::optional<std::string> apply_timeout(Target& target, std::string_view value) {
    Duration d{};
    if (auto problem = parse_positive_duration_option(value, d)) return problem;
    target.timeout = d;
    return std::nullopt;
}

const OptionSpec k_common_options[] = {
    {"name", "NAME", "the URL without options", "name in logs and the diagnosis", false, apply_name},
    {"timeout", "DUR", "--attempt-timeout", "limit of one attempt", false, apply_timeout},
};

const OptionSpec* find_option(const TargetKind& kind, std::string_view key) {
    for (const auto& option : k_common_options) {
        if (option.name == key) return &option;
    }
    for (const auto& option : kind.options) {
        if (option.name == key) return &option;
    }
    return nullptr;
}

bool is_secret_anywhere(std::string_view key) {
    for (const TargetKind* kind : target_kinds()) {
        for (const auto& option : kind->options) {
            if (option.secret && option.name == key) return true;
        }
    }
    return false;
}

std::string join_names(const std::vector<std::string_view>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i) out += i + 1 == names.size() ? " or " : ", ";
        out += names[i];
    }
    return out;
}

}  // namespace

std::optional<std::string> parse_whole_option(std::string_view value, long min, long max, long& out) {
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
    if (ec != std::errc{} || ptr != value.data() + value.size() || out < 0 || out > max) {
        return fmt::format("expected a whole number from {} to {}", min, max);
    }
    if (out < min) return fmt::format("must be at least {}", min);
    return std::nullopt;
}

std::optional<std::string> parse_bool_option(std::string_view value, bool& out) {
    if (!parse_bool(value, out)) return std::string("expected true or false");
    return std::nullopt;
}

std::optional<std::string> parse_positive_duration_option(std::string_view value, Duration& out) {
    auto d = parse_duration(value);
    if (!d) return d.error();
    if (d->count() <= 0) return std::string("must be positive");
    out = *d;
    return std::nullopt;
}

std::optional<std::string> parse_nonempty_option(std::string_view value, std::string& out) {
    if (value.empty()) return std::string("empty value");
    out = std::string(value);
    return std::nullopt;
}

bool is_valid_hostname(std::string_view host) { return valid_hostname_text(host); }
bool is_ip_address(std::string_view text) { return is_ipv4(text) || is_ipv6(text); }

const TargetKind* find_target_kind(std::string_view scheme) {
    for (const TargetKind* kind : target_kinds()) {
        if (kind->name == scheme || (!kind->alias.empty() && kind->alias == scheme)) return kind;
    }
    return nullptr;
}

bool Target::host_is_ip_literal() const { return is_ipv4(host) || is_ipv6(host); }

std::string Target::authority() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return port ? fmt::format("{}:{}", h, port) : h;
}

std::string target_option_names(const TargetKind& kind) {
    std::string names;
    for (const auto& option : k_common_options) names += (names.empty() ? "" : ", ") + std::string(option.name);
    for (const auto& option : kind.options) names += ", " + std::string(option.name);
    return names;
}

std::string redact_target_url(std::string_view url) {
    auto start = url.find_first_of("#?");
    if (start == std::string_view::npos) return std::string(url);
    std::string out(url.substr(0, start + 1));
    std::string_view rest = url.substr(start + 1);
    while (true) {
        auto end = rest.find_first_of("&#?");
        std::string_view item = rest.substr(0, end);
        auto eq = item.find('=');
        std::string key;
        if (eq != std::string_view::npos && percent_decode(item.substr(0, eq), key) && is_secret_anywhere(key)) {
            out += std::string(item.substr(0, eq + 1)) + "<secret>";
        } else {
            out += item;
        }
        if (end == std::string_view::npos) break;
        out += rest[end];
        rest = rest.substr(end + 1);
    }
    return out;
}

std::optional<std::string> apply_target_option(Target& target, std::string_view key, std::string_view value) {
    const OptionSpec* option = find_option(*target.kind, key);
    if (!option) {
        return fmt::format("option \"{}\" does not apply to {}:// targets (options: {})", one_line(key, 64),
                           target.kind->name, target_option_names(*target.kind));
    }
    auto problem = option->apply(target, value);
    if (!problem) return std::nullopt;
    if (option->secret) return fmt::format("option {}=<secret>: {}", key, *problem);
    return fmt::format("option {}=\"{}\": {}", key, one_line(value, 200), *problem);
}

std::optional<std::string> check_option_combination(const Target& target) {
    if (target.kind->check_combination) return target.kind->check_combination(target);
    return std::nullopt;
}

Expected<Target> parse_target(std::string_view url) {
    auto bad = [&](std::string_view why) {
        return make_error(fmt::format("invalid target \"{}\": {}", one_line(redact_target_url(url), 300), why));
    };
    Target target;
    target.url = std::string(url);
    auto sep = url.find("://");
    if (sep == std::string_view::npos) {
        return bad("expected a URL like tcp://host:port, http://host/path, dns://name, file:///path or unix:///path");
    }
    std::string scheme = to_lower(url.substr(0, sep));
    target.kind = find_target_kind(scheme);
    if (!target.kind) {
        std::vector<std::string_view> names;
        for (const TargetKind* kind : target_kinds()) names.push_back(kind->name);
        return bad(fmt::format("unknown scheme \"{}\" (use {})", one_line(scheme, 40), join_names(names)));
    }
    const TargetKind& kind = *target.kind;
    if (kind.make_options) target.options = kind.make_options();

    std::string_view rest = url.substr(sep + 3);
    // Options: after '#' for every kind; after '?' too, except for http(s).
    std::string_view options;
    if (auto hash = rest.find('#'); hash != std::string_view::npos) {
        options = rest.substr(hash + 1);
        rest = rest.substr(0, hash);
    }
    if (kind.address != AddressForm::http_url) {
        if (auto q = rest.find('?'); q != std::string_view::npos) {
            if (!options.empty()) return bad("options given both after '?' and after '#'");
            options = rest.substr(q + 1);
            rest = rest.substr(0, q);
        }
    }
    target.name = std::string(url.substr(0, url.size() - (options.empty() ? 0 : options.size() + 1)));

    switch (kind.address) {
        case AddressForm::path: {
            std::string path;
            if (!percent_decode(rest, path)) return bad("invalid %-escape in path");
            if (path.empty() || path.front() != '/') return bad(fmt::format("expected an absolute path: {}", kind.form));
            target.path = path;
            break;
        }
        case AddressForm::dns_name: {
            if (rest.find('/') != std::string_view::npos) {
                return bad(fmt::format("a {}:// target is a name only: {}", kind.name, kind.form));
            }
            if (rest.empty()) return bad("missing name");
            if (!valid_hostname_text(rest)) return bad(fmt::format("invalid DNS name \"{}\"", rest));
            target.host = std::string(rest);
            break;
        }
        case AddressForm::host_port: {
            if (auto slash = rest.find('/'); slash != std::string_view::npos) {
                if (slash + 1 != rest.size()) {
                    return bad(fmt::format("a {}:// target has no path (options go after '?' or '#')", kind.name));
                }
                rest = rest.substr(0, slash);
            }
            if (auto problem = parse_authority(rest, target, kind.default_port == 0, kind.default_port)) {
                return bad(*problem);
            }
            break;
        }
        case AddressForm::http_url: {
            auto slash = rest.find_first_of("/?");
            std::string_view authority = rest.substr(0, slash);
            target.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
            if (target.path.front() == '?') target.path.insert(target.path.begin(), '/');
            for (char c : target.path) {
                if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("space or control character in path (use %20)");
            }
            if (auto problem = parse_authority(authority, target, false, kind.default_port)) return bad(*problem);
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
                return bad(fmt::format("invalid %-escape in option \"{}\"", redact_target_url(fmt::format("#{}", item)).substr(1)));
            }
            if (auto problem = apply_target_option(target, key, value)) return bad(*problem);
        }
    }
    if (auto problem = check_option_combination(target)) return bad(*problem);
    return target;
}

namespace {

std::string kind_scheme_list(const TargetKind& kind) {
    return kind.alias.empty() ? std::string(kind.name) : fmt::format("{} ({})", kind.name, kind.alias);
}

}  // namespace

std::string target_kinds_help() {
    std::string out = "Targets (options after '#'; for non-http kinds '?' works too):\n";
    for (const TargetKind* kind : target_kinds()) {
        out += fmt::format("  {:<30}{}\n", kind->form, kind->ready_when);
    }
    out += "  IPv6 literals in brackets: tcp://[::1]:5432\n\nTarget options:\n";
    for (const auto& option : k_common_options) {
        out += fmt::format("  {:<18} {} (default {})\n", fmt::format("{}={}", option.name, option.value), option.help,
                           option.default_text);
    }
    for (const TargetKind* kind : target_kinds()) {
        if (kind->options.empty()) continue;
        std::string line = fmt::format("  {}:", kind_scheme_list(*kind));
        std::size_t width = line.size();
        for (const auto& option : kind->options) {
            std::string item = fmt::format(" {}={}", option.name, option.value);
            if (width + item.size() > 79) {
                out += line + "\n";
                line = std::string(6, ' ');
                width = line.size();
            }
            line += item;
            width += item.size();
        }
        out += line + "\n";
    }
    return out;
}

std::string target_options_markdown() {
    struct Row {
        const OptionSpec* option;
        std::vector<std::string_view> kinds;
    };
    std::vector<Row> rows;
    for (const auto& option : k_common_options) rows.push_back({&option, {"all"}});
    for (const TargetKind* kind : target_kinds()) {
        for (const auto& option : kind->options) {
            auto same = std::find_if(rows.begin(), rows.end(), [&](const Row& row) {
                return row.option->name == option.name && row.option->value == option.value &&
                       row.option->default_text == option.default_text && row.option->help == option.help;
            });
            if (same != rows.end()) same->kinds.push_back(kind->name);
            else rows.push_back({&option, {kind->name}});
        }
    }
    auto cell = [](std::string_view text) {
        std::string out;
        for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
        return out;
    };
    std::string out = "| option | kinds | default | meaning |\n|---|---|---|---|\n";
    for (const Row& row : rows) {
        std::string kinds;
        for (auto k : row.kinds) kinds += (kinds.empty() ? "" : ", ") + std::string(k);
        out += fmt::format("| `{}={}` | {} | {} | {}{} |\n", row.option->name, cell(row.option->value), kinds,
                           row.option->default_text.empty() ? "—" : cell(row.option->default_text), cell(row.option->help),
                           row.option->secret ? " (secret: never shown)" : "");
    }
    return out;
}

}  // namespace healthgate
