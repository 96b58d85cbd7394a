#pragma once
// The checks of a target: one attempt at a time, on a single-threaded
// io_context, as C++20 coroutines. A failed check is a result, not an
// exception: a classified Failure, a short reason naming what failed and why
// ("connect 10.0.1.45:5432: connection refused"), and how long it took.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.hpp"
#include "common/expected.hpp"
#include "common/target.hpp"

namespace healthgate::check {

// Every failure is classified, because the user reads it to find the cause.
enum class Failure {
    none,
    dns_no_such_name,        // NXDOMAIN for every search-list candidate
    dns_no_answer,           // the name exists but has no record of that type
    dns_server_unreachable,  // no nameserver answered (timeout / refused)
    dns_server_failure,      // SERVFAIL / REFUSED / malformed answer
    dns_too_few_answers,     // dns:// min=N not reached
    dns_unexpected_answer,   // dns:// expect=ADDR not among the answers
    connection_refused,
    connect_timeout,         // SYN unanswered: often a NetworkPolicy or a firewall
    network_unreachable,     // no route / host unreachable
    connection_reset,        // reset or closed by the peer mid-exchange
    tls_handshake,
    tls_verify,              // certificate verification failed (reason in text)
    http_status,             // status not in the accepted set
    http_body,               // body substring/regex not found
    http_protocol,           // malformed response, too many or cross-host redirects
    read_timeout,            // connected but no (complete) answer in time
    file_missing,
    file_empty,
    file_stale,
    socket_missing,          // unix:// path does not exist
    server_not_ready,        // the server answered that it is not ready (starting up, loading,
                             // too many connections, wrong role): the reason says what it said
    protocol_error,          // the answer is not that protocol (a wrong port?) or is malformed
    grpc_not_serving,        // Health/Check answered NOT_SERVING (or UNKNOWN)
    grpc_service_unknown,    // the server knows no such service (NOT_FOUND / SERVICE_UNKNOWN)
    grpc_unimplemented,      // the server has no grpc.health.v1.Health service
    grpc_status,             // another gRPC status code, with its message
    other,                   // anything else, reason says what
};

// Short stable name: "connection refused", "dns: no such name", ...
std::string_view failure_name(Failure failure);

struct CheckResult {
    Failure failure = Failure::none;
    std::string reason{};    // empty when ok; one line, names what failed and why
    Duration latency{0};
    std::string detail{};    // ok: what the server said of itself, or empty ("RabbitMQ 3.10.8")
    // What a target that checks several things found for each (grpc list=true:
    // one per service), for one [+]/[-] line each in the probe's output.
    struct Part {
        std::string name;    // "service=orders"
        bool ok = false;
        std::string reason;  // when not ok
    };
    std::vector<Part> parts = {};  // "= {}": no warning where a result is built from its first fields
    bool ok() const { return failure == Failure::none; }
};

struct CheckerOptions {
    // resolv.conf syntax plus the healthgate extension `nameserver IP:PORT` /
    // `nameserver [IPv6]:PORT` (see check/resolv_conf.hpp); missing: glibc defaults.
    std::string resolv_conf_path = "/etc/resolv.conf";
    // Consulted for tcp:// and http(s):// hosts, not for dns:// targets.
    std::string hosts_path = "/etc/hosts";
    // false when the caller knows no name will be looked up (every target is
    // an IP literal or a local path, see needs_name_lookup): resolv.conf is then
    // not read at all and the glibc defaults stand in, as for a missing file.
    // The exec probe uses this to skip a file read on every run.
    bool names_needed = true;
};

// Whether checking `target` may look up a name (a dns:// target, or a
// tcp/http(s) host that is not an IP literal).
bool needs_name_lookup(const Target& target);

// Owns what checks share: the c-ares channel, started on first use (name lookups with the pod's
// nameservers, search list and ndots) and lazily created TLS contexts.
class Checker {
public:
    virtual ~Checker() = default;

    // Errors: unreadable/invalid resolv.conf (names file:line). The c-ares
    // channel starts at the first lookup that needs DNS; if it cannot, that
    // check fails (Failure::other) with the reason.
    static Expected<std::unique_ptr<Checker>> create(boost::asio::io_context& io, const CheckerOptions& options);

    // One attempt. Never takes longer than `timeout` (plus scheduling slack):
    // on expiry the sockets are closed and the result is a timeout failure
    // naming the phase (dns, connect, tls, read). Safe to run many at once.
    // `target` must stay valid, and the Checker alive, until the attempt ends.
    // Once no attempt runs, the Checker leaves no pending work on the
    // io_context (lookups nobody waits for are cancelled), so io.run() returns.
    virtual boost::asio::awaitable<CheckResult> run(const Target& target, Duration timeout) = 0;

    // "nameservers 10.96.0.10:53; search a.svc.cluster.local svc.cluster.local; ndots 5",
    // for the diagnosis of DNS failures.
    virtual std::string resolver_summary() const = 0;
};

}  // namespace healthgate::check
