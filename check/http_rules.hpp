#pragma once
// The decisions of an HTTP check, as pure functions: which Host header,
// whether to follow a redirect, whether a body matches. The I/O around them
// is in http_check.cpp.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/body_regex.hpp"
#include "common/status_set.hpp"
#include "common/target.hpp"

namespace healthgate::check {

// The options of http:// and https:// targets (check/kinds/http.cpp parses them).
struct HttpOptions {
    StatusSet statuses;                                        // status=200-399 (default)
    std::string method = "GET";                                // method=HEAD
    std::vector<std::pair<std::string, std::string>> headers;  // header=Name:value (repeatable)
    std::string host_header;                                   // host=name (Host header override)
    std::string body_contains;                                 // body=substring
    std::string body_regex;                                    // body_regex=ECMAScript regex
    int max_redirects = 5;                                     // redirects=N, same host only
    std::size_t max_body_bytes = 64 * 1024;                    // max_body=bytes read at most
    // https only
    std::string ca_file;                                       // ca=/path/ca.pem
    std::string server_name;                                   // sni=name (SNI + certificate name)
    bool insecure_skip_verify = false;                         // insecure=true
};

// host[:port], the port only when it is not the scheme's default; IPv6 in brackets.
std::string default_host_header(const Target& target);

bool is_redirect_status(int status);  // 301 302 303 307 308

// The request's bytes: "METHOD path HTTP/1.1", then Host, User-Agent, Accept,
// Connection: close (and Content-Length: 0 for POST, PUT, PATCH), then the
// target's header= options; a header= replaces a field of the same name
// (case-insensitive) and the last of several with one name wins. Written as
// one buffer: no header table or serializer on a path the exec probe runs
// every period.
std::string request_text(const Target& target, std::string_view host_header, std::string_view path);

// Where a request is sent: scheme, host (no brackets), port.
struct Origin {
    bool https = false;
    std::string host;
    std::uint16_t port = 80;
};

struct RedirectDecision {
    enum Kind {
        not_redirect,   // not a redirect status, or no Location
        follow,         // same origin, under the limit: request `path` next
        too_many,       // same origin, but max_redirects already followed
        other_origin,   // another host, port or scheme: never followed (like the kubelet)
        bad_location,   // a Location that cannot be understood
    };
    Kind kind = not_redirect;
    std::string path;  // follow: path and query for the next request
};

// `host_header` counts as our host too (a target reached by IP with host=name
// may be redirected to http://name/...). `followed` redirects were followed
// already; max_redirects 0 means none are followed (the 3xx is judged as is).
RedirectDecision decide_redirect(int status, std::string_view location, const Origin& origin,
                                 std::string_view host_header, std::string_view current_path, int followed,
                                 int max_redirects);

// Resolves a Location against the current request. nullopt: unusable.
struct Location {
    Origin origin;
    std::string path;  // with query, without fragment
};
std::optional<Location> resolve_location(const Origin& origin, std::string_view current_path, std::string_view location);

// Pure: why `body` (the first max_body_bytes at most; `truncated` when more
// was sent) fails the body=/body_regex= rules, or nullopt when it matches.
// `regex` is the compiled body_regex (nullptr when none); a regex that gives
// up (too complex for the body) is a mismatch that says so.
std::optional<std::string> body_mismatch(std::string_view body, bool truncated, const HttpOptions& options,
                                         const BodyRegex* regex);

// A short, single-line, valid UTF-8 excerpt of a body, for failure reasons.
std::string body_excerpt(std::string_view body, std::size_t max_bytes);

}  // namespace healthgate::check
