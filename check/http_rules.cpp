#include "check/http_rules.hpp"

#include <charconv>
#include <fmt/format.h>
#include <vector>

#include "common/text.hpp"

namespace healthgate::check {
namespace {

constexpr std::size_t k_excerpt_bytes = 80;

std::uint16_t default_port(bool https) { return https ? 443 : 80; }

bool equal_icase(std::string_view a, std::string_view b) { return to_lower(a) == to_lower(b); }

// "name", "name:8080", "[::1]:8080" -> host without brackets and the port (0 if none).
bool split_authority(std::string_view authority, std::string& host, std::uint16_t& port) {
    port = 0;
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return false;
        host = std::string(authority.substr(1, close - 1));
        std::string_view rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return false;
            port_text = rest.substr(1);
        }
    } else {
        auto colon = authority.rfind(':');
        if (colon != std::string_view::npos && authority.find(':') == colon) {
            host = std::string(authority.substr(0, colon));
            port_text = authority.substr(colon + 1);
        } else {
            host = std::string(authority);
        }
    }
    if (host.empty()) return false;
    if (!port_text.empty()) {
        unsigned value = 0;
        auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || value == 0 || value > 65535) return false;
        port = static_cast<std::uint16_t>(value);
    }
    return true;
}

// RFC 3986 5.2.4, for paths without their query.
std::string remove_dot_segments(std::string_view path) {
    std::vector<std::string_view> out;
    bool trailing_slash = false;
    for (std::string_view segment : split(path.substr(path.empty() || path.front() != '/' ? 0 : 1), '/')) {
        trailing_slash = false;
        if (segment == ".") {
            trailing_slash = true;
        } else if (segment == "..") {
            if (!out.empty()) out.pop_back();
            trailing_slash = true;
        } else {
            out.push_back(segment);
        }
    }
    std::string result;
    for (auto segment : out) {
        result += '/';
        result += segment;
    }
    if (result.empty() || trailing_slash) result += '/';
    return result;
}

// Spaces and control characters are not allowed in a request target: escape them.
std::string escape_target(std::string_view path) {
    std::string out;
    for (char c : path) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) {
            out += fmt::format("%{:02X}", u);
        } else {
            out += c;
        }
    }
    return out;
}

std::string join_path_query(std::string_view path, std::string_view query) {
    std::string out = remove_dot_segments(path);
    if (!query.empty()) out += query;
    return escape_target(out);
}

}  // namespace

std::string default_host_header(const Target& target) {
    bool https = target.kind->name == "https";
    std::string host = target.host.find(':') != std::string::npos ? "[" + target.host + "]" : target.host;
    if (target.port == 0 || target.port == default_port(https)) return host;
    return fmt::format("{}:{}", host, target.port);
}

bool is_redirect_status(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string request_text(const Target& target, std::string_view host_header, std::string_view path) {
    const std::string& method = target.options_as<HttpOptions>().method;
    std::vector<std::pair<std::string_view, std::string_view>> fields = {
        {"Host", host_header}, {"User-Agent", "healthgate/" HEALTHGATE_VERSION}, {"Accept", "*/*"},
        {"Connection", "close"}};
    if (method == "POST" || method == "PUT" || method == "PATCH") fields.emplace_back("Content-Length", "0");
    for (const auto& header : target.options_as<HttpOptions>().headers) {
        // Not a structured binding: clang 14 (the fuzz build) cannot capture one.
        std::erase_if(fields, [&](const auto& field) { return equal_icase(field.first, header.first); });
        fields.emplace_back(header.first, header.second);
    }
    std::string text;
    text.reserve(128 + path.size());
    text.append(method).append(" ").append(path).append(" HTTP/1.1\r\n");
    for (const auto& [name, value] : fields) text.append(name).append(": ").append(value).append("\r\n");
    text.append("\r\n");
    return text;
}

std::optional<Location> resolve_location(const Origin& origin, std::string_view current_path, std::string_view location) {
    location = trim(location);
    if (auto hash = location.find('#'); hash != std::string_view::npos) location = location.substr(0, hash);
    if (location.empty()) return std::nullopt;
    Location out;
    out.origin = origin;

    std::string_view rest = location;
    auto colon = location.find(':');
    auto first_delimiter = location.find_first_of("/?");
    if (colon != std::string_view::npos && (first_delimiter == std::string_view::npos || colon < first_delimiter)) {
        std::string scheme = to_lower(location.substr(0, colon));
        if (scheme != "http" && scheme != "https") return std::nullopt;
        if (location.substr(colon + 1, 2) != "//") return std::nullopt;
        out.origin.https = scheme == "https";
        rest = location.substr(colon + 1);
    }
    if (rest.substr(0, 2) == "//") {
        rest.remove_prefix(2);
        auto end = rest.find_first_of("/?");
        std::uint16_t port = 0;
        if (!split_authority(rest.substr(0, end), out.origin.host, port)) return std::nullopt;
        if (out.origin.host.find('@') != std::string::npos) return std::nullopt;
        out.origin.port = port ? port : default_port(out.origin.https);
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
        if (rest.empty()) rest = "/";
    }
    std::string_view path = rest, query;
    if (auto q = rest.find('?'); q != std::string_view::npos) {
        path = rest.substr(0, q);
        query = rest.substr(q);
    }
    std::string_view current = current_path.substr(0, current_path.find('?'));
    if (path.empty()) {
        // "?x=1" keeps the current path; "" cannot happen here (checked above).
        out.path = join_path_query(current, query);
    } else if (path.front() == '/') {
        out.path = join_path_query(path, query);
    } else {
        std::string base(current.substr(0, current.rfind('/') + 1));
        if (base.empty()) base = "/";
        out.path = join_path_query(base + std::string(path), query);
    }
    return out;
}

RedirectDecision decide_redirect(int status, std::string_view location, const Origin& origin,
                                 std::string_view host_header, std::string_view current_path, int followed,
                                 int max_redirects) {
    RedirectDecision decision;
    if (!is_redirect_status(status) || trim(location).empty() || max_redirects <= 0) return decision;
    auto resolved = resolve_location(origin, current_path, location);
    if (!resolved) {
        decision.kind = RedirectDecision::bad_location;
        return decision;
    }
    const Origin& to = resolved->origin;
    bool same_host = equal_icase(to.host, origin.host);
    if (!same_host && !host_header.empty()) {
        std::string header_host;
        std::uint16_t header_port = 0;
        same_host = split_authority(host_header, header_host, header_port) && equal_icase(to.host, header_host);
    }
    if (!same_host || to.port != origin.port || to.https != origin.https) {
        decision.kind = RedirectDecision::other_origin;
        return decision;
    }
    if (followed >= max_redirects) {
        decision.kind = RedirectDecision::too_many;
        return decision;
    }
    decision.kind = RedirectDecision::follow;
    decision.path = resolved->path;
    return decision;
}

std::string body_excerpt(std::string_view body, std::size_t max_bytes) {
    if (body.empty()) return "(empty body)";
    std::string_view prefix = utf8_prefix(body, max_bytes);
    std::string text = utf8_sanitize(prefix);
    std::string out;
    out.reserve(text.size() + 3);
    bool space = false;
    for (char c : text) {
        bool blank = c == '\n' || c == '\r' || c == '\t' || c == ' ';
        if (blank) {
            if (!space && !out.empty()) out += ' ';
            space = true;
            continue;
        }
        space = false;
        out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    if (prefix.size() < body.size()) out += "...";
    return out;
}

std::optional<std::string> body_mismatch(std::string_view body, bool truncated, const HttpOptions& options,
                                         const BodyRegex* regex) {
    std::string scope = truncated ? fmt::format(" in its first {} bytes", body.size()) : std::string();
    if (!options.body_contains.empty() && body.find(options.body_contains) == std::string_view::npos) {
        return fmt::format("body does not contain \"{}\"{}: {}", options.body_contains, scope,
                           body_excerpt(body, k_excerpt_bytes));
    }
    if (regex) {
        bool found = false;
        try {
            found = boost::regex_search(body.begin(), body.end(), *regex);
        } catch (const std::runtime_error& e) {
            std::string_view why = e.what();
            why = why.substr(0, why.find(". "));  // Boost's first sentence says it
            if (!why.empty() && why.back() == '.') why.remove_suffix(1);
            return fmt::format("body_regex /{}/ gave up on a {}-byte body: {}", options.body_regex, body.size(), to_lower(why));
        }
        if (!found) {
            return fmt::format("body does not match /{}/{}: {}", options.body_regex, scope,
                               body_excerpt(body, k_excerpt_bytes));
        }
    }
    return std::nullopt;
}

}  // namespace healthgate::check
