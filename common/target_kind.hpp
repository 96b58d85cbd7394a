#pragma once
// A check kind as one unit: everything healthgate knows about tcp://, http://,
// postgres://... lives in that kind's file (check/kinds/<kind>.cpp) as one
// TargetKind, registered by one line in check/kinds/kinds.cpp. Target parsing,
// option errors, the help texts, the README's option table (checked by a
// test), serve's liveness locality rule and the checker all read these tables.
#include <any>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace healthgate {

struct Target;
namespace check {
struct CheckContext;
struct CheckResult;
}  // namespace check

// One option of a kind: `name=value` after '#' in a URL, or a YAML key.
struct OptionSpec {
    std::string_view name{};
    std::string_view value{};         // how a value is written: "N", "DUR", "true|false", "Name:value"
    std::string_view default_text{};  // shown in help and the README; "" when there is none
    std::string_view help{};          // one line
    bool secret = false;            // never echoed (passwords, header values): errors say <secret>
    // Stores `value` in the target's kind options; returns why it is invalid
    // (without quoting the value: the caller names the option, redacted if secret).
    std::optional<std::string> (*apply)(Target& target, std::string_view value) = nullptr;
};

// How the part after "scheme://" is written.
enum class AddressForm {
    host_port,  // host[:port] (the port is required when the kind has no default port)
    http_url,   // host[:port]/path?query: the query belongs to the request, options only after '#'
    dns_name,   // a DNS name only
    path,       // an absolute filesystem path (file:///x, unix:///run/x.sock)
};

// What counts as "this pod" for serve's liveness rule (a liveness check of
// another host restarts the container for a problem a restart cannot fix).
enum class Locality {
    host,    // local when the host is this pod (loopback, localhost, its own addresses and hostnames)
    remote,  // never local (a DNS lookup goes through the cluster DNS)
    local,   // always local (files and unix sockets)
};

// One attempt: returns within `deadline`, errors are classified results.
using KindAttempt = boost::asio::awaitable<check::CheckResult> (*)(check::CheckContext& ctx, const Target& target,
                                                                   std::chrono::steady_clock::time_point deadline);

struct TargetKind {
    std::string_view name{};          // the scheme, as in messages: "postgres"
    std::string_view alias{};         // a second scheme, or "": "postgresql"
    std::string_view form{};          // "postgres://host[:port]"
    std::string_view ready_when{};    // one line: what counts as ready
    AddressForm address = AddressForm::host_port;
    std::uint16_t default_port = 0;  // 0: the URL must give the port
    std::span<const OptionSpec> options{};
    std::any (*make_options)() = nullptr;  // the kind's option struct with its defaults, or none
    // Options each valid alone that contradict each other; checked once all are applied.
    std::optional<std::string> (*check_combination)(const Target& target) = nullptr;
    Locality locality = Locality::host;
    KindAttempt attempt = nullptr;
};

// Every kind, in help order. Defined in check/kinds/kinds.cpp (one line a kind).
std::span<const TargetKind* const> target_kinds();

// The kind whose scheme (or alias) is `scheme` (lower case), or nullptr.
const TargetKind* find_target_kind(std::string_view scheme);

// Helpers for option parsers: they return why a value is invalid.
std::optional<std::string> parse_whole_option(std::string_view value, long min, long max, long& out);
std::optional<std::string> parse_bool_option(std::string_view value, bool& out);
std::optional<std::string> parse_positive_duration_option(std::string_view value, std::chrono::milliseconds& out);
std::optional<std::string> parse_nonempty_option(std::string_view value, std::string& out);
bool is_valid_hostname(std::string_view host);
bool is_ip_address(std::string_view text);

// Help text generated from the tables: the kinds ("  tcp://host:port   a completed ...")
// and their options, for `wait --help`.
std::string target_kinds_help();
// The README's option table (markdown), one row per option; rows that are the
// same for several kinds are merged ("http, https").
std::string target_options_markdown();

}  // namespace healthgate
