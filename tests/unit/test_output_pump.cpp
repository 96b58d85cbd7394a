#include <catch2/catch.hpp>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <thread>
#include <unistd.h>

#include "sidecar/output_pump.hpp"

using namespace healthgate::sidecar;

// Real pipes and files: the pump is the thin I/O around LastLines, so it is
// exercised against the kernel, never a fake.
namespace {

std::string read_all(int fd) {
    std::string out;
    char buffer[65536];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<std::size_t>(n));
    return out;
}

std::string pattern(std::size_t bytes) {
    std::string data;
    data.reserve(bytes);
    for (std::size_t i = 0; data.size() < bytes; ++i) data += "line " + std::to_string(i) + " \xC3\xA9\n";
    data.resize(bytes);
    return data;
}

// Writes `data` into a pipe from a thread and pumps it into `sink` until EOF.
void run_pump(const std::string& data, int sink, LastLines& tail) {
    int app[2];
    REQUIRE(::pipe(app) == 0);
    int dev_null = ::open("/dev/null", O_WRONLY);
    std::thread writer([&] {
        std::size_t done = 0;
        while (done < data.size()) {
            ssize_t n = ::write(app[1], data.data() + done, std::min<std::size_t>(data.size() - done, 5000));
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
        ::close(app[1]);
    });
    {
        OutputPump pump(OutputStream::out, app[0], sink, tail, dev_null);
        while (pump.pump() != OutputPump::State::eof) {
            pollfd fd{pump.state() == OutputPump::State::output_blocked ? pump.sink() : pump.source(),
                      static_cast<short>(pump.state() == OutputPump::State::output_blocked ? POLLOUT : POLLIN), 0};
            ::poll(&fd, 1, 1000);
        }
    }
    writer.join();  // the pump owned and closed app[0]
    ::close(dev_null);
}

}  // namespace

TEST_CASE("pump: into a pipe, byte-identical, tail kept") {
    std::string data = pattern(3 << 20);
    int out[2];
    REQUIRE(::pipe(out) == 0);
    std::string received;
    std::thread reader([&] { received = read_all(out[0]); });
    LastLines tail(4096);
    run_pump(data, out[1], tail);
    ::close(out[1]);
    reader.join();
    ::close(out[0]);
    CHECK(received.size() == data.size());
    CHECK(received == data);
    auto lines = tail.lines();
    REQUIRE_FALSE(lines.empty());
    std::string last_complete = data.substr(0, data.rfind('\n'));
    last_complete = last_complete.substr(last_complete.rfind('\n') + 1);
    bool found = false;
    for (const auto& line : lines) found = found || line.text == last_complete;
    CHECK(found);
}

TEST_CASE("pump: into an O_APPEND file falls back to copying, still byte-identical") {
    char name[] = "/tmp/hg-pump-XXXXXX";
    int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    int sink = ::open(name, O_WRONLY | O_APPEND);
    std::string data = pattern(1 << 20);
    LastLines tail(4096);
    run_pump(data, sink, tail);
    ::close(sink);
    int back = ::open(name, O_RDONLY);
    CHECK(read_all(back) == data);
    ::close(back);
    ::unlink(name);
    CHECK_FALSE(tail.lines().empty());
}

TEST_CASE("pump: a closed reader closes the app's pipe, so the app's writes fail as without us") {
    ::signal(SIGPIPE, SIG_IGN);
    int out[2], app[2];
    REQUIRE(::pipe(out) == 0);
    REQUIRE(::pipe(app) == 0);
    ::close(out[0]);
    int dev_null = ::open("/dev/null", O_WRONLY);
    LastLines tail(4096);
    OutputPump pump(OutputStream::out, app[0], out[1], tail, dev_null);
    REQUIRE(::write(app[1], "FATAL: said before\n", 19) == 19);
    CHECK(pump.pump() == OutputPump::State::eof);
    CHECK(pump.output_lost());
    errno = 0;
    CHECK(::write(app[1], "more\n", 5) == -1);
    CHECK(errno == EPIPE);
    REQUIRE(tail.lines().size() == 1);
    CHECK(tail.lines()[0].text == "FATAL: said before");
    ::close(app[1]);
    ::close(out[1]);
    ::close(dev_null);
}

TEST_CASE("pump: a closed reader loses the output but keeps the tail") {
    int out[2];
    REQUIRE(::pipe(out) == 0);
    ::close(out[0]);
    ::signal(SIGPIPE, SIG_IGN);
    LastLines tail(4096);
    run_pump("first\nFATAL: last words\n", out[1], tail);
    ::close(out[1]);
    auto lines = tail.lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[1].text == "FATAL: last words");
}
