#include "common/error_line.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <iterator>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include "common/exit_codes.hpp"
#include "common/text.hpp"

extern char** environ;

namespace healthgate {

namespace {

constexpr std::size_t k_min_secret = 3;
constexpr std::size_t k_config_read_max = 4 * 1024 * 1024;
constexpr std::string_view k_secret_keys[] = {"password", "passwd", "token", "secret"};

// A part of a text that holds a secret: [begin, end).
struct Span {
    std::size_t begin;
    std::size_t end;
};

bool is_any(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }

std::size_t end_of_value(std::string_view text, std::size_t from, std::string_view terminators) {
    std::size_t end = from;
    while (end < text.size() && !is_any(text[end], terminators)) ++end;
    return end;
}

bool match_icase(std::string_view text, std::size_t at, std::string_view word) {
    return at + word.size() <= text.size() && starts_with_icase(text.substr(at, word.size()), word);
}

// The secret parts of `text` by their shape. `terminators` end a value;
// `yaml_keys` also takes "password: value" (config files, not messages).
std::vector<Span> secret_spans(std::string_view text, std::string_view terminators, bool yaml_keys) {
    std::vector<Span> spans;
    const std::string authority_end = std::string("/?#") + std::string(terminators);
    for (std::size_t at = text.find("://"); at != std::string_view::npos; at = text.find("://", at + 3)) {
        std::size_t start = at + 3;
        std::size_t end = end_of_value(text, start, authority_end);
        std::string_view authority = text.substr(start, end - start);
        std::size_t user_end = authority.rfind('@');
        if (user_end == std::string_view::npos) continue;
        std::size_t colon = authority.substr(0, user_end).find(':');
        if (colon == std::string_view::npos || colon + 1 == user_end) continue;
        spans.push_back({start + colon + 1, start + user_end});
    }
    for (std::size_t at = 0; at < text.size(); ++at) {
        if (match_icase(text, at, "header=")) {
            std::size_t name = at + 7;
            std::size_t end = end_of_value(text, name, terminators);
            std::size_t colon = text.substr(name, end - name).find(':');
            if (colon == std::string_view::npos) continue;
            // Percent-encoded ':' (%3A) separates too; the value is what follows.
            std::size_t value = name + colon + 1;
            while (value < end && text[value] == ' ') ++value;
            if (value < end) spans.push_back({value, end});
            continue;
        }
        for (std::string_view key : k_secret_keys) {
            if (!match_icase(text, at, key)) continue;
            std::size_t after = at + key.size();
            if (after < text.size() && text[after] == '=') {
                std::size_t end = end_of_value(text, after + 1, terminators);
                if (end > after + 1) spans.push_back({after + 1, end});
            } else if (yaml_keys && after + 1 < text.size() && text[after] == ':' && is_any(text[after + 1], " \t")) {
                std::size_t value = after + 1;
                while (value < text.size() && is_any(text[value], " \t\"'")) ++value;
                std::size_t end = end_of_value(text, value, "\"'\r\n");
                while (end > value && is_any(text[end - 1], " \t")) --end;
                if (end > value) spans.push_back({value, end});
            }
        }
    }
    return spans;
}

void add_secret(std::vector<std::string>& secrets, std::string_view secret) {
    secret = trim(secret);
    if (secret.size() < k_min_secret) return;
    secrets.emplace_back(secret);
    std::string decoded;
    if (percent_decode(secret, decoded) && decoded != secret) add_secret(secrets, decoded);
    // The words of a value ("Bearer TOKEN"): a parser may quote one of them.
    for (char separator : {' ', '+', ','}) {
        if (secret.find(separator) == std::string_view::npos) continue;
        for (std::string_view word : split(secret, separator)) {
            if (word.size() >= k_min_secret && word.size() < secret.size()) add_secret(secrets, word);
        }
    }
}

void replace_all(std::string& text, std::string_view secret) {
    for (std::size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + k_redacted.size())) {
        text.replace(at, secret.size(), k_redacted);
    }
}

// Control characters as escapes; the rest (valid UTF-8) as is.
std::string escape_controls(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (byte < 0x20 || byte == 0x7f) out += fmt::format("\\x{:02x}", byte);
        else out += c;
    }
    return out;
}

std::string read_bounded(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::string text(k_config_read_max, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    return text;
}

// A config file's secrets from its YAML structure: every scalar as text
// (URLs, key=value options), the values of header: (after "Name:") and of
// password/token/secret keys, in maps and sequences alike.
void collect_yaml(const YAML::Node& node, std::string_view key, std::vector<std::string>& secrets) {
    if (node.IsScalar()) {
        const std::string& value = node.Scalar();
        for (std::string& secret : secrets_in(value)) secrets.push_back(std::move(secret));
        std::string lower = to_lower(key);
        if (lower == "header" || lower == "headers") {
            std::size_t colon = value.find(':');
            if (colon != std::string::npos) add_secret(secrets, std::string_view(value).substr(colon + 1));
        }
        for (std::string_view secret_key : k_secret_keys) {
            if (lower.find(secret_key) != std::string::npos) add_secret(secrets, value);
        }
    } else if (node.IsSequence()) {
        for (const auto& item : node) collect_yaml(item, key, secrets);
    } else if (node.IsMap()) {
        for (const auto& entry : node) {
            std::string name = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
            // header: {Authorization: "Bearer x"} names the header by its key.
            bool header_map = to_lower(key) == "header" || to_lower(key) == "headers";
            if (header_map && entry.second.IsScalar()) add_secret(secrets, entry.second.Scalar());
            collect_yaml(entry.second, name, secrets);
        }
    }
}

}  // namespace

std::vector<std::string> config_secrets(std::string_view text) {
    std::vector<std::string> secrets = secrets_in(text);
    try {
        // Load, not LoadAll: yaml-cpp 0.7's LoadAll never returns on some
        // malformed input (found by fuzz_serve_config); a config is one document.
        collect_yaml(YAML::Load(std::string(text)), "", secrets);
    } catch (const std::exception&) {
        // Not YAML (or broken): the text scan above is all there is.
    }
    return secrets;
}

std::vector<std::string> secrets_in(std::string_view text) {
    std::vector<std::string> secrets;
    for (const Span& span : secret_spans(text, "&\"'\r\n", true)) {
        add_secret(secrets, text.substr(span.begin, span.end - span.begin));
    }
    return secrets;
}

std::string error_line(std::string_view message, const std::vector<std::string>& secrets, std::size_t max_bytes) {
    std::string text(message);
    // By shape first (whatever the inputs were), then every known secret,
    // longest first so that a word of a secret does not split the whole.
    std::vector<Span> spans = secret_spans(text, "&\"' \t\r\n,;)]}", false);
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin > b.begin; });
    std::size_t limit = std::string::npos;
    for (const Span& span : spans) {
        if (span.end > limit) continue;  // overlaps one already redacted
        if (text.compare(span.begin, span.end - span.begin, "...") == 0) continue;  // a placeholder in a hint
        text.replace(span.begin, span.end - span.begin, k_redacted);
        limit = span.begin;
    }
    std::vector<std::string_view> ordered(secrets.begin(), secrets.end());
    std::sort(ordered.begin(), ordered.end(), [](std::string_view a, std::string_view b) { return a.size() > b.size(); });
    for (std::string_view secret : ordered) {
        if (secret.size() >= k_min_secret) replace_all(text, secret);
    }
    std::string line = escape_controls(utf8_sanitize(text));
    if (line.size() > max_bytes) {
        std::size_t cut = line.size();
        line = std::string(utf8_prefix(line, max_bytes));
        line += fmt::format("… ({} bytes cut)", cut - line.size());
    }
    return line;
}

std::vector<std::string> command_secrets(const std::vector<std::string>& args, const std::vector<std::string>& files) {
    std::vector<std::string> secrets;
    auto add = [&](std::string_view text) {
        for (std::string& secret : secrets_in(text)) secrets.push_back(std::move(secret));
    };
    std::vector<std::string> config_files = files;
    for (std::size_t i = 0; i < args.size(); ++i) {
        add(args[i]);
        if (args[i] == "--config" && i + 1 < args.size()) config_files.push_back(args[i + 1]);
        if (args[i].starts_with("--config=")) config_files.push_back(args[i].substr(9));
    }
    for (char** entry = environ; entry && *entry; ++entry) {
        std::string_view variable(*entry);
        if (!variable.starts_with("HEALTHGATE_")) continue;
        add(variable);
        if (variable.starts_with("HEALTHGATE_CONFIG=")) config_files.emplace_back(variable.substr(18));
    }
    for (const std::string& file : config_files) {
        for (std::string& secret : config_secrets(read_bounded(file))) secrets.push_back(std::move(secret));
    }
    return secrets;
}

int usage_error(std::string_view message, const std::vector<std::string>& args, const std::vector<std::string>& files) {
    std::string line = error_line(message, command_secrets(args, files));
    std::fprintf(stderr, "healthgate %s\n", line.c_str());
    return k_exit_usage;
}

}  // namespace healthgate
