#pragma once
// Real peers on loopback for the check tests, served on the test's own
// io_context: a small authoritative DNS server over UDP and a small HTTP/1.1
// server. Both answer from a table the test fills in.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace healthgate::test {

namespace asio = boost::asio;

// Runs the io_context until `aw` finishes (peers keep it busy forever, so
// run() would not return).
template <typename T>
T run_until_done(asio::io_context& io, asio::awaitable<T> aw) {
    std::optional<T> out;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> { out = co_await std::move(aw); }, asio::detached);
    io.restart();
    while (!out) io.run_one();
    return std::move(*out);
}

// A fresh directory under $TMPDIR, removed at the end of the test.
class TempDir {
public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string pattern = std::string(base && *base ? base : "/tmp") + "/healthgate-test-XXXXXX";
        path_ = ::mkdtemp(pattern.data()) ? pattern : std::string();
    }
    ~TempDir() {
        std::error_code ignored;
        if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
    }
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(file(name), std::ios::binary) << text;
        return file(name);
    }

private:
    std::string path_;
};

// Authoritative answers for a few names; anything else is NXDOMAIN. Names
// listed in `silent` get no answer at all (a server dropping the query).
class DnsPeer {
public:
    enum Rcode : std::uint8_t { noerror = 0, servfail = 2, nxdomain = 3, refused = 5 };
    struct Records {
        std::vector<std::array<std::uint8_t, 4>> a;
        std::vector<std::array<std::uint8_t, 16>> aaaa;
        Rcode rcode = noerror;
        bool silent = false;
    };

    explicit DnsPeer(asio::io_context& io) : socket_(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        asio::co_spawn(io, serve(), asio::detached);
    }
    std::uint16_t port() const { return socket_.local_endpoint().port(); }
    std::map<std::string, Records> names;
    std::vector<std::string> queried;  // "A db.svc.cluster.local", in order

private:
    asio::awaitable<void> serve() {
        std::array<std::uint8_t, 512> in{};
        for (;;) {
            asio::ip::udp::endpoint from;
            auto [ec, n] = co_await socket_.async_receive_from(asio::buffer(in), from, asio::as_tuple(asio::use_awaitable));
            if (ec == asio::error::operation_aborted) co_return;
            if (ec || n < 12) continue;
            std::vector<std::uint8_t> out;
            if (answer(in.data(), n, out)) {
                co_await socket_.async_send_to(asio::buffer(out), from, asio::as_tuple(asio::use_awaitable));
            }
        }
    }

    bool answer(const std::uint8_t* q, std::size_t n, std::vector<std::uint8_t>& out) {
        std::size_t i = 12;
        std::string name;
        while (i < n && q[i] != 0) {
            std::size_t len = q[i++];
            if (i + len > n) return false;
            if (!name.empty()) name += '.';
            for (std::size_t k = 0; k < len; ++k) name += static_cast<char>(std::tolower(q[i + k]));
            i += len;
        }
        if (i + 5 > n) return false;
        std::size_t question_end = i + 5;
        std::uint16_t qtype = static_cast<std::uint16_t>(q[i + 1] << 8 | q[i + 2]);
        queried.push_back((qtype == 28 ? "AAAA " : qtype == 1 ? "A " : "? ") + name);
        auto it = names.find(name);
        if (it != names.end() && it->second.silent) return false;
        std::uint8_t rcode = it == names.end() ? nxdomain : it->second.rcode;
        std::vector<std::vector<std::uint8_t>> rdata;
        if (it != names.end() && rcode == noerror) {
            if (qtype == 1) for (auto& a : it->second.a) rdata.emplace_back(a.begin(), a.end());
            if (qtype == 28) for (auto& a : it->second.aaaa) rdata.emplace_back(a.begin(), a.end());
        }
        out.assign(q, q + question_end);
        out[2] = static_cast<std::uint8_t>(0x80 | (q[2] & 0x01));  // QR, keep RD
        out[3] = static_cast<std::uint8_t>(0x80 | rcode);          // RA
        out[4] = 0, out[5] = 1;
        out[6] = static_cast<std::uint8_t>(rdata.size() >> 8), out[7] = static_cast<std::uint8_t>(rdata.size());
        out[8] = out[9] = out[10] = out[11] = 0;
        for (const auto& r : rdata) {
            std::uint8_t rr[] = {0xc0, 0x0c, static_cast<std::uint8_t>(qtype >> 8), static_cast<std::uint8_t>(qtype),
                                 0, 1, 0, 0, 0, 60, 0, static_cast<std::uint8_t>(r.size())};
            out.insert(out.end(), std::begin(rr), std::end(rr));
            out.insert(out.end(), r.begin(), r.end());
        }
        return true;
    }

    asio::ip::udp::socket socket_;
};

// HTTP/1.1 on 127.0.0.1: reads one request head, answers with the raw
// response the handler returns for the request target, closes.
class HttpPeer {
public:
    using Handler = std::function<std::string(const std::string& target, const std::string& head)>;
    HttpPeer(asio::io_context& io, Handler handler)
        : acceptor_(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), handler_(std::move(handler)) {
        asio::co_spawn(io, serve(), asio::detached);
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::vector<std::string> heads;  // every request head received

    static std::string response(int status, const std::string& body, const std::string& extra_headers = "") {
        return "HTTP/1.1 " + std::to_string(status) + " Whatever\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n" + extra_headers + "Connection: close\r\n\r\n" + body;
    }

private:
    asio::awaitable<void> serve() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec == asio::error::operation_aborted) co_return;
            if (ec) continue;
            asio::co_spawn(acceptor_.get_executor(), session(std::move(socket)), asio::detached);
        }
    }
    asio::awaitable<void> session(asio::ip::tcp::socket socket) {
        std::string data;
        auto [ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(data), "\r\n\r\n",
                                                        asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        std::string head = data.substr(0, n);
        heads.push_back(head);
        auto sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
        std::string reply = handler_(head.substr(sp1 + 1, sp2 - sp1 - 1), head);
        co_await asio::async_write(socket, asio::buffer(reply), asio::as_tuple(asio::use_awaitable));
        boost::system::error_code ignored;
        socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
        // Let the client close first, so it reads everything before any reset.
        char sink[256];
        for (;;) {
            auto [e, m] = co_await socket.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
            if (e) break;
        }
    }

    asio::ip::tcp::acceptor acceptor_;
    Handler handler_;
};

}  // namespace healthgate::test
