#include <ares.h>
#include <catch2/catch.hpp>

#include "check/resolver.hpp"
#include "test_check_peers.hpp"

using namespace healthgate;
using namespace healthgate::check;
using healthgate::test::DnsPeer;
using healthgate::test::run_until_done;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

ResolvConf conf_for(std::uint16_t port, std::vector<std::string> search = {}, int ndots = 1) {
    ResolvConf conf;
    conf.nameservers = {Nameserver{"127.0.0.1", port}};
    conf.search = std::move(search);
    conf.ndots = ndots;
    conf.timeout_seconds = 1;
    conf.attempts = 1;
    return conf;
}

std::unique_ptr<Resolver> make_resolver(boost::asio::io_context& io, ResolvConf conf) {
    auto resolver = Resolver::create(io, std::move(conf));
    REQUIRE(resolver.ok());
    return std::move(*resolver);
}

// A loopback UDP port with nothing bound to it (ICMP port unreachable).
std::uint16_t closed_udp_port(boost::asio::io_context& io) {
    boost::asio::ip::udp::socket s(io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    return s.local_endpoint().port();
}

const std::vector<std::string> k_pod_search = {"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"};

}  // namespace

TEST_CASE("c-ares statuses are classified", "[resolver]") {
    REQUIRE(classify_ares_status(ARES_SUCCESS) == Failure::none);
    REQUIRE(classify_ares_status(ARES_ENOTFOUND) == Failure::dns_no_such_name);
    REQUIRE(classify_ares_status(ARES_ENODATA) == Failure::dns_no_answer);
    REQUIRE(classify_ares_status(ARES_ETIMEOUT) == Failure::dns_server_unreachable);
    REQUIRE(classify_ares_status(ARES_ECONNREFUSED) == Failure::dns_server_unreachable);
    REQUIRE(classify_ares_status(ARES_ESERVFAIL) == Failure::dns_server_failure);
    REQUIRE(classify_ares_status(ARES_EREFUSED) == Failure::dns_server_failure);
    REQUIRE(classify_ares_status(ARES_EBADRESP) == Failure::dns_server_failure);
    REQUIRE(classify_ares_status(ARES_EFORMERR) == Failure::dns_server_failure);
    REQUIRE(classify_ares_status(ARES_EBADNAME) == Failure::other);
    REQUIRE(classify_ares_status(ARES_ENOMEM) == Failure::other);
    REQUIRE(classify_ares_status(ARES_EDESTRUCTION) == Failure::other);
}

TEST_CASE("DNS failures name the names tried and the servers", "[resolver]") {
    ResolvConf conf = conf_for(53, k_pod_search, 5);
    conf.nameservers = {Nameserver{"10.96.0.10", 53}};
    REQUIRE(describe_dns_failure(ARES_ENOTFOUND, "db", DnsRecordType::a, conf) ==
            "no such name: tried db.shop.svc.cluster.local, db.svc.cluster.local, db.cluster.local, db");
    REQUIRE(describe_dns_failure(ARES_ENODATA, "db.", DnsRecordType::aaaa, conf) == "no AAAA record: tried db");
    REQUIRE(describe_dns_failure(ARES_ETIMEOUT, "db", DnsRecordType::a, conf) ==
            "no answer from nameserver 10.96.0.10:53 (timed out)");
    REQUIRE(describe_dns_failure(ARES_ECONNREFUSED, "db", DnsRecordType::a, conf).find("connection refused") !=
            std::string::npos);
    REQUIRE(describe_dns_failure(ARES_ESERVFAIL, "db.", DnsRecordType::a, conf) ==
            "server failure (SERVFAIL) from nameserver 10.96.0.10:53");
    REQUIRE(describe_dns_failure(ARES_EREFUSED, "db", DnsRecordType::a, conf) ==
            "query refused (REFUSED) by nameserver 10.96.0.10:53 while searching db.shop.svc.cluster.local, "
            "db.svc.cluster.local, db.cluster.local, db");
}

TEST_CASE("search list and ndots are honoured, in order, against a real server", "[resolver]") {
    boost::asio::io_context io;
    DnsPeer dns(io);
    dns.names["db.svc.cluster.local"].a = {{10, 1, 2, 3}};
    auto resolver = make_resolver(io, conf_for(dns.port(), k_pod_search, 5));

    auto answer = run_until_done(io, resolver->search("db", DnsRecordType::a, Clock::now() + 5s));
    REQUIRE(answer);
    REQUIRE(answer->ok());
    REQUIRE(answer->addresses == std::vector<boost::asio::ip::address>{boost::asio::ip::make_address("10.1.2.3")});
    REQUIRE(dns.queried == std::vector<std::string>{"A db.shop.svc.cluster.local", "A db.svc.cluster.local"});

    // A trailing dot: only the name itself.
    dns.queried.clear();
    answer = run_until_done(io, resolver->search("db.svc.cluster.local.", DnsRecordType::a, Clock::now() + 5s));
    REQUIRE(answer->ok());
    REQUIRE(dns.queried == std::vector<std::string>{"A db.svc.cluster.local"});
}

TEST_CASE("NXDOMAIN everywhere, NODATA, SERVFAIL, REFUSED from a real server", "[resolver]") {
    boost::asio::io_context io;
    DnsPeer dns(io);
    dns.names["v4only.example"].a = {{10, 0, 0, 1}};
    dns.names["broken.example"].rcode = DnsPeer::servfail;
    dns.names["closed.example"].rcode = DnsPeer::refused;
    auto resolver = make_resolver(io, conf_for(dns.port(), {"a.example", "b.example"}, 1));

    auto missing = run_until_done(io, resolver->search("nothere", DnsRecordType::a, Clock::now() + 5s));
    REQUIRE(missing);
    REQUIRE(missing->status == ARES_ENOTFOUND);
    REQUIRE(dns.queried == std::vector<std::string>{"A nothere.a.example", "A nothere.b.example", "A nothere"});

    auto nodata = run_until_done(io, resolver->search("v4only.example.", DnsRecordType::aaaa, Clock::now() + 5s));
    REQUIRE(nodata->status == ARES_ENODATA);

    auto servfail = run_until_done(io, resolver->search("broken.example.", DnsRecordType::a, Clock::now() + 5s));
    REQUIRE(servfail->status == ARES_ESERVFAIL);

    auto refused = run_until_done(io, resolver->search("closed.example.", DnsRecordType::a, Clock::now() + 5s));
    REQUIRE(refused->status == ARES_EREFUSED);
}

TEST_CASE("many records are all returned", "[resolver]") {
    boost::asio::io_context io;
    DnsPeer dns(io);
    auto& records = dns.names["pool.example"];
    for (std::uint8_t i = 1; i <= 25; ++i) records.a.push_back({10, 0, 0, i});
    auto resolver = make_resolver(io, conf_for(dns.port()));
    auto answer = run_until_done(io, resolver->search("pool.example", DnsRecordType::a, Clock::now() + 5s));
    REQUIRE(answer->ok());
    REQUIRE(answer->addresses.size() == 25);
}

TEST_CASE("A and AAAA for a host, at once", "[resolver]") {
    boost::asio::io_context io;
    DnsPeer dns(io);
    dns.names["dual.example"].a = {{10, 0, 0, 7}};
    dns.names["dual.example"].aaaa = {{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}};
    dns.names["v4.example"].a = {{10, 0, 0, 8}};
    auto resolver = make_resolver(io, conf_for(dns.port()));

    auto dual = run_until_done(io, resolver->search_host("dual.example", Clock::now() + 5s));
    REQUIRE(dual.a);
    REQUIRE(dual.aaaa);
    REQUIRE(dual.a->addresses.front().to_string() == "10.0.0.7");
    REQUIRE(dual.aaaa->addresses.front().to_string() == "fd00::7");

    auto v4 = run_until_done(io, resolver->search_host("v4.example", Clock::now() + 5s));
    REQUIRE(v4.a->ok());
    REQUIRE(v4.aaaa->status == ARES_ENODATA);
}

TEST_CASE("a silent server: attempts give up at their deadline, share a query, leave nothing behind", "[resolver]") {
    boost::asio::io_context io;
    // A UDP socket nobody reads: queries vanish.
    boost::asio::ip::udp::socket blackhole(io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    ResolvConf conf = conf_for(blackhole.local_endpoint().port());
    conf.timeout_seconds = 5;
    auto resolver = make_resolver(io, conf);

    std::optional<DnsAnswer> first, second;
    int done = 0;
    auto start = Clock::now();
    boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
        first = co_await resolver->search("slow.example", DnsRecordType::a, start + 300ms);
        ++done;
    }, boost::asio::detached);
    boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
        second = co_await resolver->search("slow.example", DnsRecordType::a, start + 600ms);
        ++done;
    }, boost::asio::detached);
    while (done < 1) io.run_one();
    REQUIRE(Clock::now() - start >= 250ms);
    REQUIRE(resolver->queries_in_flight() == 1);  // one query, shared; the second attempt still waits
    while (done < 2) io.run_one();
    auto took = Clock::now() - start;
    REQUIRE_FALSE(first);
    REQUIRE_FALSE(second);
    REQUIRE(took >= 550ms);
    REQUIRE(took < 2s);

    // Nobody waits any more: the query is cancelled and the io_context runs dry.
    auto idle_start = Clock::now();
    io.run_for(3s);
    REQUIRE(Clock::now() - idle_start < 1s);
    REQUIRE(resolver->queries_in_flight() == 0);
}

TEST_CASE("a silent server: c-ares' own timeout ends a query someone waits for", "[resolver]") {
    boost::asio::io_context io;
    DnsPeer dns(io);
    dns.names["slow.example"].silent = true;
    auto resolver = make_resolver(io, conf_for(dns.port()));  // 1s, one try
    auto start = Clock::now();
    auto answer = run_until_done(io, resolver->search("slow.example", DnsRecordType::a, start + 5s));
    REQUIRE(answer);
    REQUIRE(answer->status == ARES_ETIMEOUT);
    REQUIRE(Clock::now() - start < 4s);
    REQUIRE(resolver->queries_in_flight() == 0);
}

TEST_CASE("no server on the nameserver port: connection refused, quickly", "[resolver]") {
    boost::asio::io_context io;
    auto resolver = make_resolver(io, conf_for(closed_udp_port(io)));
    auto start = Clock::now();
    auto answer = run_until_done(io, resolver->search("db.example", DnsRecordType::a, start + 5s));
    REQUIRE(answer);
    REQUIRE(answer->status == ARES_ECONNREFUSED);
    REQUIRE(Clock::now() - start < 3s);
}

TEST_CASE("destroying the resolver with a query in flight is clean", "[resolver]") {
    boost::asio::io_context io;
    DnsPeer dns(io);
    dns.names["slow.example"].silent = true;
    auto resolver = make_resolver(io, conf_for(dns.port()));
    std::optional<DnsAnswer> answer;
    bool done = false;
    boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
        answer = co_await resolver->search("slow.example", DnsRecordType::a, Clock::now() + 5s);
        done = true;
    }, boost::asio::detached);
    while (resolver->queries_in_flight() == 0) io.run_one();
    io.poll();
    resolver.reset();  // answers the waiting attempt (cancelled) and releases c-ares' sockets
    while (!done) io.run_one();
    REQUIRE(answer);
    REQUIRE(answer->status == ARES_EDESTRUCTION);
    io.restart();
    io.poll();  // handlers of the released sockets run without touching the resolver
}

TEST_CASE("a search is classified by what its candidates got, not by the last one", "[resolver]") {
    auto nx = [](const char* name) { return NameOutcome{name, ARES_ENOTFOUND}; };
    std::vector<NameOutcome> tried = {nx("db.shop.svc.cluster.local"), nx("db.svc.cluster.local"), nx("db.cluster.local"),
                                      NameOutcome{"db", ARES_EREFUSED}};
    // A cluster DNS without upstream: every in-cluster candidate NXDOMAIN, the bare name REFUSED.
    REQUIRE(search_status(tried, "db") == ARES_ENOTFOUND);
    tried.back().status = ARES_ESERVFAIL;
    REQUIRE(search_status(tried, "db") == ARES_ENOTFOUND);
    // A refused in-cluster candidate: the server is the problem.
    tried[0].status = ARES_EREFUSED;
    REQUIRE(search_status(tried, "db") == ARES_ESERVFAIL);
    // The name exists without this record type somewhere: no record.
    tried[0].status = ARES_ENODATA;
    REQUIRE(search_status(tried, "db") == ARES_ENODATA);
    // Only the bare name (absolute, or no search list): its own status.
    REQUIRE(search_status({NameOutcome{"db", ARES_EREFUSED}}, "db.") == ARES_EREFUSED);
    REQUIRE(search_status({nx("db")}, "db") == ARES_ENOTFOUND);
    REQUIRE(search_continues(ARES_EREFUSED));
    REQUIRE_FALSE(search_continues(ARES_ETIMEOUT));

    ResolvConf conf = conf_for(53, k_pod_search, 5);
    DnsAnswer answer;
    answer.tried = {nx("db.shop.svc.cluster.local"), nx("db.svc.cluster.local"), nx("db.cluster.local"),
                    NameOutcome{"db", ARES_EREFUSED}};
    answer.status = search_status(answer.tried, "db");
    REQUIRE(classify_ares_status(answer.status) == Failure::dns_no_such_name);
    REQUIRE(describe_dns_failure(answer, "db", DnsRecordType::a, conf) ==
            "no such name: tried db.shop.svc.cluster.local, db.svc.cluster.local, db.cluster.local, db; "
            "db: query refused (REFUSED) by nameserver 127.0.0.1:53");
}
