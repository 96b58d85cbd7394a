#include "check/resolv_conf.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/text.hpp"

namespace healthgate::check {
namespace {

constexpr std::size_t k_max_file_bytes = 64 * 1024;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::vector<std::string_view> words(std::string_view text) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i])) ++i;
        std::size_t start = i;
        while (i < text.size() && !is_space(text[i])) ++i;
        if (i > start) out.push_back(text.substr(start, i - start));
    }
    return out;
}

bool valid_ipv4(std::string_view text) {
    in_addr addr{};
    return ::inet_pton(AF_INET, std::string(text).c_str(), &addr) == 1;
}

bool valid_ipv6(std::string_view text) {
    in6_addr addr{};
    return ::inet_pton(AF_INET6, std::string(text).c_str(), &addr) == 1;
}

bool parse_port(std::string_view text, std::uint16_t& port) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size() || value == 0 || value > 65535) return false;
    port = static_cast<std::uint16_t>(value);
    return true;
}

// Like glibc's atoi() on an option value, but an option without digits is ignored.
bool leading_number(std::string_view text, int& out) {
    long value = 0;
    std::size_t i = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && value < 1000000) {
        value = value * 10 + (text[i] - '0');
        ++i;
    }
    if (i == 0) return false;
    out = static_cast<int>(value);
    return true;
}

enum class ServerParse { ok, skip, invalid };

ServerParse parse_nameserver(std::string_view text, Nameserver& out, std::string& why) {
    std::string_view address = text;
    std::uint16_t port = 53;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) {
            why = "unclosed '['";
            return ServerParse::invalid;
        }
        address = text.substr(1, close - 1);
        if (!valid_ipv6(address)) {
            why = "not an IPv4 or IPv6 address (brackets are for IPv6)";
            return ServerParse::invalid;
        }
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':' || !parse_port(rest.substr(1), port)) {
                why = "expected [IPv6]:port with a port from 1 to 65535";
                return ServerParse::invalid;
            }
        }
    } else if (auto colon = text.find(':'); colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
        // One colon: IPv4:port (an IPv6 address has at least two).
        address = text.substr(0, colon);
        if (!valid_ipv4(address) || !parse_port(text.substr(colon + 1), port)) {
            why = "expected IPv4:port with a port from 1 to 65535";
            return ServerParse::invalid;
        }
    }
    // Link-local servers with a scope (fe80::1%eth0) cannot be given to c-ares
    // 1.18's server list; such a line is skipped rather than misused.
    if (address.find('%') != std::string_view::npos) return ServerParse::skip;
    if (!valid_ipv4(address) && !valid_ipv6(address)) {
        why = "not an IPv4 or IPv6 address";
        return ServerParse::invalid;
    }
    out.address = std::string(address);
    out.port = port;
    return ServerParse::ok;
}

// glibc: a keyword counts only when followed by a space or a tab.
bool keyword(std::string_view line, std::string_view name, std::string_view& rest) {
    if (line.size() < name.size() || line.substr(0, name.size()) != name) return false;
    if (line.size() == name.size()) {
        rest = {};
        return true;
    }
    if (line[name.size()] != ' ' && line[name.size()] != '\t') return false;
    rest = line.substr(name.size());
    return true;
}

std::string strip_trailing_dots(std::string_view name) {
    while (!name.empty() && name.back() == '.') name.remove_suffix(1);
    return std::string(name);
}

}  // namespace

Expected<ResolvConf> parse_resolv_conf(std::string_view text, std::string_view origin) {
    ResolvConf conf;
    int line_number = 0;
    for (std::string_view line : split(text, '\n')) {
        ++line_number;
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        std::string_view rest;
        if (keyword(line, "nameserver", rest)) {
            auto parts = words(rest);
            if (parts.empty()) {
                return make_error(fmt::format("{}:{}: nameserver without an address", origin, line_number));
            }
            Nameserver server;
            std::string why;
            switch (parse_nameserver(parts[0], server, why)) {
                case ServerParse::invalid:
                    return make_error(fmt::format("{}:{}: nameserver \"{}\": {}", origin, line_number, parts[0], why));
                case ServerParse::skip: break;
                case ServerParse::ok:
                    if (conf.nameservers.size() < k_max_nameservers) conf.nameservers.push_back(server);
                    break;
            }
        } else if (keyword(line, "search", rest) || keyword(line, "domain", rest)) {
            bool is_domain = line.front() == 'd';
            conf.search.clear();
            for (std::string_view word : words(rest)) {
                std::string domain = strip_trailing_dots(word);
                if (!domain.empty()) conf.search.push_back(std::move(domain));
                if (is_domain) break;
            }
        } else if (keyword(line, "options", rest)) {
            for (std::string_view option : words(rest)) {
                int value = 0;
                if (option.starts_with("ndots:") && leading_number(option.substr(6), value)) {
                    conf.ndots = std::min(value, k_max_ndots);
                } else if (option.starts_with("timeout:") && leading_number(option.substr(8), value)) {
                    conf.timeout_seconds = std::clamp(value, 1, k_max_timeout_seconds);
                } else if (option.starts_with("attempts:") && leading_number(option.substr(9), value)) {
                    conf.attempts = std::clamp(value, 1, k_max_attempts);
                }
            }
        }
    }
    if (conf.nameservers.empty()) conf.nameservers.push_back(Nameserver{"127.0.0.1", 53});
    return conf;
}

Expected<ResolvConf> load_resolv_conf(const std::string& path) {
    // open/fstat/read into a buffer the size of the file: the exec probe loads
    // this on every start, and a zero-filled 64 KiB buffer cost more than the parse.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return parse_resolv_conf("", path);
        return make_error(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    }
    struct stat st {};
    std::string text;
    int failure = 0;
    if (::fstat(fd, &st) != 0) failure = errno;
    // Files that report size 0 (procfs-like) still get read, in small steps.
    std::size_t want = st.st_size > 0 ? static_cast<std::size_t>(st.st_size) + 1 : 512;
    want = std::min(want, k_max_file_bytes);
    while (failure == 0 && text.size() < k_max_file_bytes) {
        std::size_t used = text.size();
        text.resize(std::min(std::max(used + want, used + 512), k_max_file_bytes));
        ssize_t n = ::read(fd, text.data() + used, text.size() - used);
        if (n < 0 && errno == EINTR) {
            text.resize(used);
            continue;
        }
        if (n < 0) failure = errno;
        text.resize(used + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
        if (n <= 0) break;
    }
    ::close(fd);
    if (failure != 0) return make_error(fmt::format("cannot read {}: {}", path, std::strerror(failure)));
    return parse_resolv_conf(text, path);
}

std::string format_nameserver(const Nameserver& server) {
    if (server.address.find(':') != std::string::npos) return fmt::format("[{}]:{}", server.address, server.port);
    return fmt::format("{}:{}", server.address, server.port);
}

std::string join_nameservers(const ResolvConf& conf, std::string_view separator) {
    std::string out;
    for (const auto& server : conf.nameservers) {
        if (!out.empty()) out += separator;
        out += format_nameserver(server);
    }
    return out;
}

std::string resolver_summary(const ResolvConf& conf) {
    std::string search = fmt::format("{}", fmt::join(conf.search, " "));
    return fmt::format("nameservers {}; search {}; ndots {}", join_nameservers(conf, " "),
                       search.empty() ? "(none)" : search, conf.ndots);
}

std::vector<std::string> search_candidates(std::string_view name, const ResolvConf& conf) {
    if (!name.empty() && name.back() == '.') return {strip_trailing_dots(name)};
    if (conf.search.empty()) return {std::string(name)};
    long dots = std::count(name.begin(), name.end(), '.');
    std::vector<std::string> out;
    bool as_is_first = dots >= conf.ndots;
    if (as_is_first) out.emplace_back(name);
    for (const auto& domain : conf.search) out.push_back(fmt::format("{}.{}", name, domain));
    if (!as_is_first) out.emplace_back(name);
    return out;
}

}  // namespace healthgate::check
