#pragma once
// What one check attempt needs from its Checker (the kinds: check/kinds/).
// Internal to check/: the commands use check.hpp only.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/body_regex.hpp"
#include "check/check.hpp"
#include "check/hosts_file.hpp"
#include "check/resolver.hpp"
#include "check/tls_context.hpp"
#include "common/expected.hpp"
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

// The c-ares channel, started by the first lookup that needs one: most exec
// probes name IP literals, and they run in every pod every period, so they
// should not pay for c-ares' start. resolv.conf itself is parsed eagerly (by
// Checker::create), so a bad file is still a usage error at start.
class LazyResolver {
public:
    LazyResolver(boost::asio::io_context& io, ResolvConf conf) : io_(io), conf_(std::move(conf)) {}
    const ResolvConf& conf() const { return conf_; }
    // The resolver, started now if need be; error: c-ares could not start
    // (tried again on the next lookup).
    Expected<Resolver*> get();
    bool started() const { return resolver_ != nullptr; }

private:
    boost::asio::io_context& io_;
    ResolvConf conf_;
    std::unique_ptr<Resolver> resolver_;
};

struct CheckContext {
    boost::asio::io_context& io;
    LazyResolver& resolver;
    HostsFile& hosts;
    TlsContexts& tls;
    RegexCache& regexes;
};

// "2s" for whole seconds, else format_duration ("1.5s", "250ms"): for timeout messages.
std::string budget_text(Clock::duration budget);

}  // namespace healthgate::check
