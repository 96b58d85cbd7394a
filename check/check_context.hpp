#pragma once
// What one check attempt needs from its Checker, and the per-kind checks.
// Internal to check/: the commands use check.hpp only.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>
#include <unordered_map>

#include "common/body_regex.hpp"
#include "check/check.hpp"
#include "check/hosts_file.hpp"
#include "check/resolver.hpp"
#include "check/tls_context.hpp"
#include "common/target.hpp"

namespace healthgate::check {

using Clock = std::chrono::steady_clock;

// Compiled body_regex patterns, so an attempt does not recompile its regex.
class RegexCache {
public:
    // nullptr when the pattern does not compile (targets are validated at parse time).
    const BodyRegex* get(const std::string& pattern);

private:
    std::unordered_map<std::string, BodyRegex> compiled_;
};

struct CheckContext {
    boost::asio::io_context& io;
    Resolver& resolver;
    HostsFile& hosts;
    TlsContexts& tls;
    RegexCache& regexes;
};

// "2s" for whole seconds, else format_duration ("1.5s", "250ms"): for timeout messages.
std::string budget_text(Clock::duration budget);

boost::asio::awaitable<CheckResult> check_tcp(CheckContext& ctx, const Target& target, Clock::time_point deadline);
boost::asio::awaitable<CheckResult> check_http(CheckContext& ctx, const Target& target, Clock::time_point deadline);
boost::asio::awaitable<CheckResult> check_dns(CheckContext& ctx, const Target& target, Clock::time_point deadline);
boost::asio::awaitable<CheckResult> check_unix(CheckContext& ctx, const Target& target, Clock::time_point deadline);
// Synchronous: a stat() does not block on a local filesystem.
CheckResult check_file(const Target& target, std::chrono::system_clock::time_point now);

}  // namespace healthgate::check
