#pragma once
// A target is one dependency to check, written as a URL whose scheme names its
// kind (common/target_kind.hpp; the kinds are check/kinds/*.cpp):
//   tcp://host:port   http://host[:port]/path[?query]   dns://name   file:///path
// Per-target options follow '#' (all kinds) or '?' (all kinds but http/https,
// whose query belongs to the request): http://api:8080/healthz#status=200&body=ok
// The same option names are the keys of a target in the YAML config.
#include <any>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/duration.hpp"
#include "common/expected.hpp"
#include "common/target_kind.hpp"

namespace healthgate {

enum class DnsRecordType { a, aaaa, srv };

struct Target {
    std::string url;       // as written by the user (options included)
    std::string name;      // name=..., else the URL without its options
    const TargetKind* kind = nullptr;  // set by parse_target
    std::string host;      // host:port kinds: host, IPv6 without brackets; dns: the name
    std::uint16_t port = 0;
    std::string path;      // http(s): path and query; file/unix: filesystem path
    std::optional<Duration> timeout;  // timeout=2s: per attempt; else the command's default
    std::any options;      // the kind's own option struct (TargetKind::make_options)

    // The kind's options; a target without them reads the defaults.
    template <class T>
    const T& options_as() const {
        if (const T* p = std::any_cast<T>(&options)) return *p;
        static const T defaults{};
        return defaults;
    }
    template <class T>
    T& options_as() {
        if (T* p = std::any_cast<T>(&options)) return *p;
        return options.emplace<T>();
    }

    bool host_is_ip_literal() const;
    // host:port as used in messages and the Host header ([v6]:port).
    std::string authority() const;
};

// Parses a target URL with its options. The error names the bad part.
Expected<Target> parse_target(std::string_view url);

// Applies one option (key=value) to a target; used for URL options and YAML keys.
// Returns an error message naming the key and value, or nothing.
std::optional<std::string> apply_target_option(Target& target, std::string_view key, std::string_view value);

// Options that are each valid but contradict each other (dns expect= with
// type=SRV); checked once all options are applied.
std::optional<std::string> check_option_combination(const Target& target);

// The option keys valid for a kind, for error messages and help.
std::string target_option_names(const TargetKind& kind);

// The URL with the values of secret options (password=, header=) replaced by
// <secret>, for messages.
std::string redact_target_url(std::string_view url);

}  // namespace healthgate
