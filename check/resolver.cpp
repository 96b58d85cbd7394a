#include "check/resolver.hpp"

#include <ares.h>
#include <arpa/nameser.h>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <poll.h>

namespace healthgate::check {
namespace {

// A readable c-ares TCP socket may hold more than one read's worth (c-ares
// reads the length prefix and the message separately, and asio's epoll is
// edge-triggered): drain it, but boundedly.
constexpr int k_max_reads_per_wakeup = 16;

bool readable_now(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

int query_type(DnsRecordType type) {
    switch (type) {
        case DnsRecordType::a: return ns_t_a;
        case DnsRecordType::aaaa: return ns_t_aaaa;
        case DnsRecordType::srv: return ns_t_srv;
    }
    return ns_t_a;
}

}  // namespace

DnsAnswer parse_dns_answer(int status, DnsRecordType type, const unsigned char* abuf, int alen) {
    DnsAnswer out;
    out.status = status;
    if (status != ARES_SUCCESS) return out;
    if (type == DnsRecordType::srv) {
        ares_srv_reply* reply = nullptr;
        out.status = ares_parse_srv_reply(abuf, alen, &reply);
        for (auto* r = reply; r; r = r->next) {
            out.services.push_back(SrvRecord{r->host ? r->host : "", r->port, r->priority, r->weight});
        }
        if (reply) ares_free_data(reply);
        if (out.status == ARES_SUCCESS && out.services.empty()) out.status = ARES_ENODATA;
        return out;
    }
    hostent* host = nullptr;
    out.status = type == DnsRecordType::a ? ares_parse_a_reply(abuf, alen, &host, nullptr, nullptr)
                                          : ares_parse_aaaa_reply(abuf, alen, &host, nullptr, nullptr);
    if (out.status == ARES_SUCCESS && host) {
        for (char** p = host->h_addr_list; p && *p; ++p) {
            if (host->h_addrtype == AF_INET) {
                boost::asio::ip::address_v4::bytes_type bytes;
                std::memcpy(bytes.data(), *p, bytes.size());
                out.addresses.emplace_back(boost::asio::ip::address_v4(bytes));
            } else if (host->h_addrtype == AF_INET6) {
                boost::asio::ip::address_v6::bytes_type bytes;
                std::memcpy(bytes.data(), *p, bytes.size());
                out.addresses.emplace_back(boost::asio::ip::address_v6(bytes));
            }
        }
    }
    if (host) ares_free_hostent(host);
    if (out.status == ARES_SUCCESS && out.addresses.empty()) out.status = ARES_ENODATA;
    return out;
}

namespace {

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += separator;
        out += item;
    }
    return out;
}

void library_init_once() {
    static const int status = ares_library_init(ARES_LIB_INIT_ALL);
    (void)status;
}

}  // namespace

std::string_view record_type_name(DnsRecordType type) {
    switch (type) {
        case DnsRecordType::a: return "A";
        case DnsRecordType::aaaa: return "AAAA";
        case DnsRecordType::srv: return "SRV";
    }
    return "?";
}

Failure classify_ares_status(int status) {
    switch (status) {
        case ARES_SUCCESS: return Failure::none;
        case ARES_ENOTFOUND: return Failure::dns_no_such_name;
        case ARES_ENODATA: return Failure::dns_no_answer;
        case ARES_ETIMEOUT:
        case ARES_ECONNREFUSED: return Failure::dns_server_unreachable;
        case ARES_ESERVFAIL:
        case ARES_EREFUSED:
        case ARES_EFORMERR:
        case ARES_ENOTIMP:
        case ARES_EBADRESP: return Failure::dns_server_failure;
        default: return Failure::other;
    }
}

bool search_continues(int status) {
    return status == ARES_ENOTFOUND || status == ARES_ENODATA || status == ARES_ESERVFAIL || status == ARES_EREFUSED;
}

int search_status(const std::vector<NameOutcome>& tried, std::string_view name) {
    if (tried.empty()) return ARES_ENOTFOUND;
    std::string_view bare = name;
    while (!bare.empty() && bare.back() == '.') bare.remove_suffix(1);
    bool any_searched = false, searched_all_missing = true, rest_missing_or_failed = true, any_nodata = false;
    for (const NameOutcome& outcome : tried) {
        any_nodata = any_nodata || outcome.status == ARES_ENODATA;
        if (outcome.name != bare) {
            any_searched = true;
            searched_all_missing = searched_all_missing && outcome.status == ARES_ENOTFOUND;
        } else {
            rest_missing_or_failed = rest_missing_or_failed &&
                                     (outcome.status == ARES_ENOTFOUND || outcome.status == ARES_ESERVFAIL ||
                                      outcome.status == ARES_EREFUSED);
        }
    }
    if (any_nodata) return ARES_ENODATA;
    bool all_missing = std::all_of(tried.begin(), tried.end(), [](const NameOutcome& o) { return o.status == ARES_ENOTFOUND; });
    if (all_missing || (any_searched && searched_all_missing && rest_missing_or_failed)) return ARES_ENOTFOUND;
    return tried.back().status;
}

std::string describe_dns_failure(const DnsAnswer& answer, std::string_view name, DnsRecordType type,
                                 const ResolvConf& conf) {
    if (answer.tried.empty()) return describe_dns_failure(answer.status, name, type, conf);
    std::vector<std::string> names;
    for (const NameOutcome& outcome : answer.tried) names.push_back(outcome.name);
    std::string line;
    switch (answer.status) {
        case ARES_ENOTFOUND: line = fmt::format("no such name: tried {}", join(names, ", ")); break;
        case ARES_ENODATA: line = fmt::format("no {} record: tried {}", record_type_name(type), join(names, ", ")); break;
        default: line = describe_dns_failure(answer.status, name, type, conf);
    }
    if (answer.status != ARES_ENOTFOUND && answer.status != ARES_ENODATA) return line;
    // The candidates whose outcome differs from the verdict, so that a
    // refusing upstream is still visible.
    std::string servers = join_nameservers(conf, ", ");
    for (const NameOutcome& outcome : answer.tried) {
        if (outcome.status == answer.status || outcome.status == ARES_ENOTFOUND || outcome.status == ARES_ENODATA) continue;
        std::string what;
        switch (outcome.status) {
            case ARES_EREFUSED: what = "query refused (REFUSED)"; break;
            case ARES_ESERVFAIL: what = "server failure (SERVFAIL)"; break;
            default: what = ares_strerror(outcome.status);
        }
        line += fmt::format("; {}: {} by nameserver {}", outcome.name, what, servers);
    }
    return line;
}

std::string describe_dns_failure(int status, std::string_view name, DnsRecordType type, const ResolvConf& conf) {
    auto tried = [&] { return join(search_candidates(name, conf), ", "); };
    std::string servers = join_nameservers(conf, ", ");
    auto searching = [&] {
        auto names = search_candidates(name, conf);
        return names.size() > 1 ? fmt::format(" while searching {}", join(names, ", ")) : std::string();
    };
    switch (status) {
        case ARES_ENOTFOUND: return fmt::format("no such name: tried {}", tried());
        case ARES_ENODATA: return fmt::format("no {} record: tried {}", record_type_name(type), tried());
        case ARES_ETIMEOUT: return fmt::format("no answer from nameserver {} (timed out)", servers);
        case ARES_ECONNREFUSED:
            return fmt::format("no answer from nameserver {} (connection refused: no DNS server there)", servers);
        // The search stops at the first candidate refused, which c-ares does not name.
        case ARES_ESERVFAIL: return fmt::format("server failure (SERVFAIL) from nameserver {}{}", servers, searching());
        case ARES_EREFUSED: return fmt::format("query refused (REFUSED) by nameserver {}{}", servers, searching());
        case ARES_EFORMERR:
        case ARES_ENOTIMP:
        case ARES_EBADRESP:
            return fmt::format("bad answer from nameserver {}: {}", servers, ares_strerror(status));
        case ARES_EBADNAME: return fmt::format("invalid name \"{}\"", name);
        case ARES_EDESTRUCTION:
        case ARES_ECANCELLED: return "lookup cancelled (shutting down)";
        default: return fmt::format("lookup failed: {}", ares_strerror(status));
    }
}

// One attempt waiting on up to two lookups (A and AAAA). Its timer doubles as
// the wake-up: the answer callback cancels it.
struct Resolver::Waiter {
    explicit Waiter(Resolver& resolver) : timer(resolver.io_), owner(&resolver), alive(resolver.alive_) {}
    // An attempt that stops waiting may leave the last live interest in the
    // running queries: let the resolver look (later, not from inside c-ares).
    ~Waiter() {
        if (alive.expired()) return;
        Resolver* resolver = owner;
        boost::asio::post(resolver->io_, [resolver, alive = alive] {
            if (!alive.expired()) resolver->drop_abandoned();
        });
    }
    boost::asio::steady_timer timer;
    std::array<std::optional<DnsAnswer>, 2> answers;
    Resolver* owner;
    std::weak_ptr<bool> alive;
};

// One c-ares search, shared by every attempt that asked for the same name
// and type while it ran. Owned by c-ares' callback argument.
struct Resolver::Inflight {
    Resolver* owner;
    std::string key;
    DnsRecordType type;
    std::vector<std::pair<std::weak_ptr<Waiter>, int>> waiters;
    std::string name;                     // as asked
    std::vector<std::string> candidates;  // search_candidates(), queried in order
    std::vector<NameOutcome> tried;
};

// A socket c-ares asked us to watch. The descriptor is released, never
// closed, by us: the fd belongs to c-ares.
struct Resolver::Watch {
    Watch(boost::asio::io_context& io, int fd) : descriptor(io), fd(fd) {}
    ~Watch() {
        if (descriptor.is_open()) descriptor.release();
    }
    boost::asio::posix::stream_descriptor descriptor;
    int fd;
    bool want_read = false, want_write = false;
    bool reading = false, writing = false;
    bool active = true;
};

Resolver::Resolver(boost::asio::io_context& io, ResolvConf conf) : io_(io), conf_(std::move(conf)), timer_(io) {}

Expected<std::unique_ptr<Resolver>> Resolver::create(boost::asio::io_context& io, ResolvConf conf) {
    library_init_once();
    std::unique_ptr<Resolver> resolver(new Resolver(io, std::move(conf)));
    const ResolvConf& c = resolver->conf_;

    std::vector<char*> domains;
    for (const auto& domain : c.search) domains.push_back(const_cast<char*>(domain.c_str()));
    char lookups[] = "b";  // DNS only: /etc/hosts is ours to read, and only for connect targets

    ares_options options{};
    int mask = 0;
    // NOALIASES: HOSTALIASES is not a resolv.conf setting. NOCHECKRESP: pass
    // SERVFAIL/REFUSED answers through; otherwise c-ares 1.18 turns them into
    // ECONNREFUSED, and the user would read "connection refused" for a server
    // that answered. The price: no retry on the next server after a SERVFAIL.
    options.flags = ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP;
    mask |= ARES_OPT_FLAGS;
    options.timeout = c.timeout_seconds * 1000;
    mask |= ARES_OPT_TIMEOUTMS;
    options.tries = c.attempts;
    mask |= ARES_OPT_TRIES;
    options.ndots = c.ndots;
    mask |= ARES_OPT_NDOTS;
    options.domains = domains.data();
    options.ndomains = static_cast<int>(domains.size());
    mask |= ARES_OPT_DOMAINS;
    options.lookups = lookups;
    mask |= ARES_OPT_LOOKUPS;
    options.sock_state_cb = &Resolver::on_socket_state;
    options.sock_state_cb_data = resolver.get();
    mask |= ARES_OPT_SOCK_STATE_CB;
    // Giving servers (none yet) and a sortlist keeps c-ares from reading the
    // system resolv.conf at all; the real servers, with ports, follow.
    options.servers = nullptr;
    options.nservers = 0;
    mask |= ARES_OPT_SERVERS;
    options.sortlist = nullptr;
    options.nsort = 0;
    mask |= ARES_OPT_SORTLIST;

    ares_channel channel = nullptr;
    if (int status = ares_init_options(&channel, &options, mask); status != ARES_SUCCESS) {
        return make_error(fmt::format("cannot start the DNS resolver (c-ares): {}", ares_strerror(status)));
    }
    resolver->channel_ = channel;
    std::string csv = join_nameservers(c, ",");
    if (int status = ares_set_servers_ports_csv(channel, csv.c_str()); status != ARES_SUCCESS) {
        return make_error(fmt::format("cannot use nameservers {}: {}", csv, ares_strerror(status)));
    }
    return resolver;
}

Resolver::~Resolver() {
    // Destroying the channel answers pending searches (ARES_EDESTRUCTION) and
    // closes c-ares' sockets, telling on_socket_state to release them.
    if (channel_) ares_destroy(channel_);
    for (auto& [fd, watch] : watches_) {
        watch->active = false;
        if (watch->descriptor.is_open()) watch->descriptor.release();
    }
    watches_.clear();
}

void Resolver::start(const std::string& name, DnsRecordType type, const std::shared_ptr<Waiter>& waiter, int slot) {
    std::string key;
    key.reserve(name.size() + 1);
    key += static_cast<char>('0' + static_cast<int>(type));
    key += name;
    if (auto it = inflight_.find(key); it != inflight_.end()) {
        it->second->waiters.emplace_back(waiter, slot);
        return;
    }
    auto* inflight = new Inflight{this, key, type, {}, name, search_candidates(name, conf_), {}};
    inflight->waiters.emplace_back(waiter, slot);
    inflight_.emplace(std::move(key), inflight);
    query_next(inflight);
    schedule_timer();
}

// The search list by hand (ares_query per candidate, not ares_search), so
// that each candidate's outcome is kept. May call on_answer before returning
// (bad name, out of memory).
void Resolver::query_next(Inflight* inflight) {
    const std::string& name = inflight->candidates[inflight->tried.size()];
    ares_query(inflight->owner->channel_, name.c_str(), ns_c_in, query_type(inflight->type), &Resolver::on_answer,
               inflight);
}

void Resolver::drop_abandoned() {
    if (inflight_.empty()) return;
    for (const auto& [key, inflight] : inflight_) {
        for (const auto& [weak, slot] : inflight->waiters) {
            if (!weak.expired()) return;
        }
    }
    // Nobody waits any more. c-ares 1.18 cannot cancel one query, but with
    // none wanted it can cancel all, and closes its sockets: an idle Checker
    // leaves no work on the io_context (a probe's io.run() returns at once).
    ares_cancel(channel_);
    schedule_timer();
}

void Resolver::on_answer(void* arg, int status, int, unsigned char* abuf, int alen) {
    auto* current = static_cast<Inflight*>(arg);
    DnsAnswer answer = parse_dns_answer(status, current->type, abuf, alen);
    current->tried.push_back(NameOutcome{current->candidates[current->tried.size()], answer.status});
    if (!answer.ok() && search_continues(answer.status) && current->tried.size() < current->candidates.size()) {
        query_next(current);
        return;
    }
    std::unique_ptr<Inflight> inflight(current);
    inflight->owner->inflight_.erase(inflight->key);
    if (!answer.ok()) answer.status = search_status(inflight->tried, inflight->name);
    answer.tried = std::move(inflight->tried);
    for (auto& [weak, slot] : inflight->waiters) {
        if (auto waiter = weak.lock()) {
            waiter->answers[slot] = answer;
            waiter->timer.cancel();
        }
    }
}

void Resolver::on_socket_state(void* data, int fd, int readable, int writable) {
    auto* self = static_cast<Resolver*>(data);
    if (!readable && !writable) {
        if (auto it = self->watches_.find(fd); it != self->watches_.end()) {
            it->second->active = false;
            it->second->descriptor.release();  // cancels its waits; c-ares closes the fd
            self->watches_.erase(it);
        }
        return;
    }
    auto& watch = self->watches_[fd];
    if (!watch) {
        watch = std::make_shared<Watch>(self->io_, fd);
        boost::system::error_code ec;
        watch->descriptor.assign(fd, ec);
        // On failure the query still ends: the c-ares timer handles its timeout.
        if (ec) return;
    }
    watch->want_read = readable != 0;
    watch->want_write = writable != 0;
    self->arm(watch);
}

void Resolver::arm(const std::shared_ptr<Watch>& watch) {
    if (!watch->descriptor.is_open()) return;
    std::weak_ptr<bool> alive = alive_;
    if (watch->want_read && !watch->reading) {
        watch->reading = true;
        watch->descriptor.async_wait(boost::asio::posix::descriptor_base::wait_read,
                                     [this, alive, watch](const boost::system::error_code& ec) {
                                         watch->reading = false;
                                         if (ec || !watch->active || alive.expired()) return;
                                         on_ready(watch, true);
                                     });
    }
    if (watch->want_write && !watch->writing) {
        watch->writing = true;
        watch->descriptor.async_wait(boost::asio::posix::descriptor_base::wait_write,
                                     [this, alive, watch](const boost::system::error_code& ec) {
                                         watch->writing = false;
                                         if (ec || !watch->active || alive.expired()) return;
                                         on_ready(watch, false);
                                     });
    }
}

void Resolver::on_ready(const std::shared_ptr<Watch>& watch, bool readable) {
    if (readable) {
        for (int i = 0; i < k_max_reads_per_wakeup; ++i) {
            ares_process_fd(channel_, watch->fd, ARES_SOCKET_BAD);
            if (!watch->active || !readable_now(watch->fd)) break;
        }
    } else {
        ares_process_fd(channel_, ARES_SOCKET_BAD, watch->fd);
    }
    if (watch->active) arm(watch);
    schedule_timer();
}

void Resolver::schedule_timer() {
    timeval tv{};
    if (!ares_timeout(channel_, nullptr, &tv)) {
        if (timer_armed_) timer_.cancel();
        timer_armed_ = false;
        return;
    }
    auto when = Clock::now() + std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
    // Re-arming costs a cancel and a new wait: skip it when nothing moved.
    if (timer_armed_ && when > timer_expiry_ - std::chrono::milliseconds(1) &&
        when < timer_expiry_ + std::chrono::milliseconds(1)) {
        return;
    }
    timer_expiry_ = when;
    timer_armed_ = true;
    timer_.expires_at(when);
    std::weak_ptr<bool> alive = alive_;
    timer_.async_wait([this, alive](const boost::system::error_code& ec) {
        if (ec || alive.expired()) return;
        timer_armed_ = false;
        ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // handles timeouts
        schedule_timer();
    });
}

boost::asio::awaitable<std::optional<DnsAnswer>> Resolver::search(std::string name, DnsRecordType type,
                                                                   Clock::time_point deadline) {
    auto waiter = std::make_shared<Waiter>(*this);
    start(name, type, waiter, 0);
    while (!waiter->answers[0] && Clock::now() < deadline) {
        boost::system::error_code ec;
        waiter->timer.expires_at(deadline);
        co_await waiter->timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
    co_return std::move(waiter->answers[0]);
}

boost::asio::awaitable<Resolver::HostAnswer> Resolver::search_host(std::string name, Clock::time_point deadline) {
    auto waiter = std::make_shared<Waiter>(*this);
    start(name, DnsRecordType::a, waiter, 0);
    start(name, DnsRecordType::aaaa, waiter, 1);
    auto& [a, aaaa] = waiter->answers;
    std::optional<Clock::time_point> first_addresses;
    while (!(a && aaaa)) {
        auto now = Clock::now();
        auto limit = deadline;
        if ((a && a->ok()) || (aaaa && aaaa->ok())) {
            if (!first_addresses) first_addresses = now;
            limit = std::min(deadline, *first_addresses + k_family_grace);
        }
        if (now >= limit) break;
        boost::system::error_code ec;
        waiter->timer.expires_at(limit);
        co_await waiter->timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
    co_return HostAnswer{std::move(a), std::move(aaaa)};
}

}  // namespace healthgate::check
