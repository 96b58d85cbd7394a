#pragma once
// Our own reader of resolv.conf, with glibc's rules (see resolv.conf(5)):
//   nameserver ADDR          IPv4 or IPv6; at most 3 are used, like glibc (MAXNS)
//   search D1 D2 ...         the search list; `domain D` is a one-entry search list,
//                            and the last of search/domain wins
//   options ndots:N timeout:N attempts:N   (capped at 15, 30 and 5 like glibc)
// Unknown keywords and options are ignored; '#' or ';' starts a comment line.
// healthgate extension: `nameserver 127.0.0.1:5353` / `nameserver [::1]:5353`
// name a port, so tests can reach a DNS server on an unprivileged loopback port.
// A missing file means glibc's defaults: nameserver 127.0.0.1, ndots 1.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"

namespace healthgate::check {

struct Nameserver {
    std::string address;       // IPv4 or IPv6, without brackets
    std::uint16_t port = 53;
    bool operator==(const Nameserver&) const = default;
};

struct ResolvConf {
    std::vector<Nameserver> nameservers;  // never empty after parse/load
    std::vector<std::string> search;      // without trailing dots
    int ndots = 1;
    int timeout_seconds = 5;              // per try, per server
    int attempts = 2;
};

inline constexpr std::size_t k_max_nameservers = 3;
inline constexpr int k_max_ndots = 15;
inline constexpr int k_max_timeout_seconds = 30;
inline constexpr int k_max_attempts = 5;

// Parses the text of a resolv.conf; `origin` names it in errors ("path:line: ...").
// Only a nameserver line that cannot be used is an error (a typo in a
// --resolv-conf file should not silently send queries elsewhere).
Expected<ResolvConf> parse_resolv_conf(std::string_view text, std::string_view origin);

// Reads and parses `path`; a missing file gives the defaults.
Expected<ResolvConf> load_resolv_conf(const std::string& path);

// "10.96.0.10:53", "[fd00::10]:53"
std::string format_nameserver(const Nameserver& server);

// The nameservers, formatted, joined by `separator`: "," makes the list for
// ares_set_servers_ports_csv ("10.96.0.10:53,[fd00::10]:53"), ", " the one
// for messages.
std::string join_nameservers(const ResolvConf& conf, std::string_view separator);

// "nameservers 10.96.0.10:53; search a.svc.cluster.local svc.cluster.local cluster.local; ndots 5"
std::string resolver_summary(const ResolvConf& conf);

// The names a search for `name` tries, in order (c-ares 1.18 and glibc rules):
// a trailing dot makes the name absolute (tried alone, without the dot in the
// result); with at least `ndots` dots the name is tried as is first, otherwise
// after the search domains.
std::vector<std::string> search_candidates(std::string_view name, const ResolvConf& conf);

}  // namespace healthgate::check
