#pragma once
// A target is one dependency to check, written as a URL:
//   tcp://host:port   http://host[:port]/path[?query]   https://...
//   dns://name        file:///path                       unix:///path
//   grpc://host:port  grpcs://host[:port]  (gRPC health, h2c / TLS)
// Per-target options follow '#' (all kinds) or '?' (all kinds but http/https,
// whose query belongs to the request): http://api:8080/healthz#status=200&body=ok
// The same option names are the keys of a target in the YAML config.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/duration.hpp"
#include "common/expected.hpp"
#include "common/status_set.hpp"

namespace healthgate {

enum class TargetKind { tcp, http, https, dns, file, unix_socket, grpc, grpcs };
enum class DnsRecordType { a, aaaa, srv };

std::string_view kind_name(TargetKind kind);

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

struct DnsOptions {
    DnsRecordType type = DnsRecordType::a;  // type=A|AAAA|SRV
    int min_answers = 1;                    // min=N
    std::string expect_address;             // expect=10.0.0.1 (one answer must equal it)
};

struct FileOptions {
    bool non_empty = false;                 // non_empty=true
    std::optional<Duration> max_age;        // max_age=30s (modified within)
};

// grpc:// and grpcs://: grpc.health.v1.Health, one Check per service.
struct GrpcOptions {
    std::vector<std::string> services;                         // service=a,b (empty: the whole server)
    bool list = false;                                         // list=true: Health/List
    std::vector<std::pair<std::string, std::string>> headers;  // header=Name:value (request metadata)
    // grpcs only
    std::string ca_file;                                       // ca=/path/ca.pem
    std::string server_name;                                   // sni=name (SNI, certificate name, :authority)
    bool insecure_skip_verify = false;                         // insecure=true
    std::string cert_file;                                     // cert=/path/client.pem (mTLS, with key=)
    std::string key_file;                                      // key=/path/client.key
};

struct Target {
    std::string url;       // as written by the user (options included)
    std::string name;      // name=..., else the URL without its options
    TargetKind kind = TargetKind::tcp;
    std::string host;      // tcp/http(s): host, IPv6 without brackets; dns: the name
    std::uint16_t port = 0;
    std::string path;      // http(s): path and query; file/unix: filesystem path
    std::optional<Duration> timeout;  // timeout=2s: per attempt; else the command's default
    HttpOptions http;
    DnsOptions dns;
    FileOptions file;
    GrpcOptions grpc;

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
std::string target_option_names(TargetKind kind);

}  // namespace healthgate
