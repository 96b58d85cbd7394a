#pragma once
// Name lookups through c-ares on the caller's io_context: no threads, no
// getaddrinfo (a static glibc binary cannot use NSS). c-ares tells us which
// sockets to watch (ARES_OPT_SOCK_STATE_CB); each gets a stream_descriptor
// whose async_wait feeds ares_process_fd, and one timer follows ares_timeout.
//
// A lookup may outlive the attempt that started it: when an attempt's
// deadline passes first it stops waiting, and the c-ares query keeps running
// while other attempts still wait on some query; an attempt for the same name
// and type joins a running query instead of starting another. Once no attempt
// waits at all, every query is cancelled: an idle Checker leaves no work on
// the io_context, and abandoned queries cannot pile up.
#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "check/check.hpp"
#include "check/resolv_conf.hpp"
#include "common/expected.hpp"
#include "common/target.hpp"

struct ares_channeldata;

namespace healthgate::check {

struct SrvRecord {
    std::string target;
    std::uint16_t port = 0;
    std::uint16_t priority = 0;
    std::uint16_t weight = 0;
};

// What one name of a search (a candidate of the search list) got.
struct NameOutcome {
    std::string name;
    int status = 0;  // c-ares status
    bool operator==(const NameOutcome&) const = default;
};

// The outcome of one search: a c-ares status (0 = ARES_SUCCESS) and the records.
// A success always carries at least one record (else it becomes ARES_ENODATA).
// `tried` keeps every candidate's own outcome, in order; `status` is what the
// whole search means (search_status).
struct DnsAnswer {
    int status = 0;
    std::vector<boost::asio::ip::address> addresses;  // A / AAAA
    std::vector<SrvRecord> services;                  // SRV
    std::vector<NameOutcome> tried;
    bool ok() const { return status == 0; }
};

// An answer as c-ares hands it to the callback (status and raw message),
// parsed for `type` (fuzzed: the message comes from the network).
DnsAnswer parse_dns_answer(int status, DnsRecordType type, const unsigned char* abuf, int alen);

// Pure: which Failure a c-ares status means.
Failure classify_ares_status(int status);

// Pure: whether a search goes on to the next candidate after this status
// (the name is missing there, or that server would not say).
bool search_continues(int status);

// Pure: what a failed search means, from each candidate's outcome. The name
// is missing ("no such name") when every candidate from the search list got
// NXDOMAIN, even if the bare name was refused or failed (a cluster DNS with no
// upstream does that); some candidate without this record type makes it "no
// record"; otherwise the last candidate's status, as c-ares would say.
int search_status(const std::vector<NameOutcome>& tried, std::string_view name);

// Pure: one line saying why the search for `name` failed, e.g.
// "no such name: tried db.ns.svc.cluster.local, db.svc.cluster.local, db.cluster.local, db"
std::string describe_dns_failure(int status, std::string_view name, DnsRecordType type, const ResolvConf& conf);
// The same with the candidates' own outcomes: names actually tried, and the
// ones whose outcome differs from the verdict listed after it
// ("no such name: tried db.ns.svc.cluster.local, …, db; db: query refused (REFUSED)").
std::string describe_dns_failure(const DnsAnswer& answer, std::string_view name, DnsRecordType type,
                                 const ResolvConf& conf);

std::string_view record_type_name(DnsRecordType type);

class Resolver {
public:
    using Clock = std::chrono::steady_clock;

    // Configures c-ares from `conf` only (servers, search list, ndots, timeout,
    // tries): the system resolv.conf is not read by c-ares itself.
    static Expected<std::unique_ptr<Resolver>> create(boost::asio::io_context& io, ResolvConf conf);
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // One search (search list and ndots honoured, one query per candidate name,
    // each outcome kept) for a record type; nullopt
    // when `deadline` came first.
    boost::asio::awaitable<std::optional<DnsAnswer>> search(std::string name, DnsRecordType type,
                                                            Clock::time_point deadline);

    // A and AAAA searches at once, for connecting to a host. Once one family
    // has addresses the other gets k_family_grace more, then is given up on
    // (a nameserver that drops AAAA queries must not stall every connect).
    struct HostAnswer {
        std::optional<DnsAnswer> a, aaaa;  // nullopt: not answered in time
    };
    boost::asio::awaitable<HostAnswer> search_host(std::string name, Clock::time_point deadline);

    const ResolvConf& conf() const { return conf_; }
    // Queries started and not answered yet (tests, diagnostics).
    std::size_t queries_in_flight() const { return inflight_.size(); }

    static constexpr std::chrono::milliseconds k_family_grace{50};

private:
    struct Waiter;
    struct Inflight;
    struct Watch;

    Resolver(boost::asio::io_context& io, ResolvConf conf);
    void start(const std::string& name, DnsRecordType type, const std::shared_ptr<Waiter>& waiter, int slot);
    static void query_next(Inflight* inflight);
    static void on_answer(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
    static void on_socket_state(void* data, int fd, int readable, int writable);
    void arm(const std::shared_ptr<Watch>& watch);
    void on_ready(const std::shared_ptr<Watch>& watch, bool readable);
    void schedule_timer();
    void drop_abandoned();

    boost::asio::io_context& io_;
    ResolvConf conf_;
    ares_channeldata* channel_ = nullptr;
    boost::asio::steady_timer timer_;
    bool timer_armed_ = false;
    Clock::time_point timer_expiry_{};
    std::unordered_map<std::string, Inflight*> inflight_;
    std::unordered_map<int, std::shared_ptr<Watch>> watches_;
    // Handlers check this before touching the Resolver: an expired timer's
    // handler can still be queued when the Resolver goes away.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace healthgate::check
