#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "check/hosts_file.hpp"
#include "test_check_peers.hpp"

using namespace healthgate::check;
using boost::asio::ip::make_address;

namespace {

std::vector<std::string> lookup(std::string_view text, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& address : hosts_lookup(text, name)) out.push_back(address.to_string());
    return out;
}

const char* k_hosts =
    "127.0.0.1\tlocalhost\n"
    "::1     localhost ip6-localhost ip6-loopback\n"
    "# 10.0.0.9 commented.example\n"
    "10.0.0.5 db.internal db   # the database\n"
    "10.0.0.6 DB.internal\n"
    "not-an-address broken.example\n"
    "10.0.0.5 db\n";

}  // namespace

TEST_CASE("hosts: names and aliases, every matching line, file order", "[hosts_file]") {
    REQUIRE(lookup(k_hosts, "localhost") == std::vector<std::string>{"127.0.0.1", "::1"});
    REQUIRE(lookup(k_hosts, "ip6-loopback") == std::vector<std::string>{"::1"});
    REQUIRE(lookup(k_hosts, "db.internal") == std::vector<std::string>{"10.0.0.5", "10.0.0.6"});
    REQUIRE(lookup(k_hosts, "db") == std::vector<std::string>{"10.0.0.5"});  // duplicates folded
}

TEST_CASE("hosts: case-insensitive, trailing dot, comments, garbage", "[hosts_file]") {
    REQUIRE(lookup(k_hosts, "LOCALHOST") == std::vector<std::string>{"127.0.0.1", "::1"});
    REQUIRE(lookup(k_hosts, "localhost.") == std::vector<std::string>{"127.0.0.1", "::1"});
    REQUIRE(lookup(k_hosts, "commented.example").empty());
    REQUIRE(lookup(k_hosts, "broken.example").empty());
    REQUIRE(lookup(k_hosts, "the").empty());  // a word of a comment is not a name
    REQUIRE(lookup(k_hosts, "10.0.0.5").empty());  // addresses are not names
    REQUIRE(lookup(k_hosts, "").empty());
    REQUIRE(lookup("", "localhost").empty());
}

TEST_CASE("HostsFile re-reads the file when it changes, and tolerates its absence", "[hosts_file]") {
    healthgate::test::TempDir dir;
    HostsFile hosts(dir.file("hosts"));
    REQUIRE(hosts.lookup("api").empty());  // no file yet

    dir.write("hosts", "10.1.1.1 api\n");
    REQUIRE(hosts.lookup("api") == std::vector<boost::asio::ip::address>{make_address("10.1.1.1")});

    // Same size, new content: the mtime (nanoseconds) or inode tells.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    dir.write("hosts", "10.2.2.2 api\n");
    REQUIRE(hosts.lookup("api") == std::vector<boost::asio::ip::address>{make_address("10.2.2.2")});

    std::filesystem::remove(dir.file("hosts"));
    REQUIRE(hosts.lookup("api").empty());
}
