// serve's request handling: Beast's parser with serve's limits, then the pure
// handler over a snapshot with checks in every state.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "probe/http_handler.hpp"
#include "probe/http_server.hpp"

namespace http = boost::beast::http;
using namespace healthgate;
using namespace healthgate::probe;

namespace {

std::vector<GroupEntry> make_groups() {
    TimePoint t0 = TimePoint{} + std::chrono::hours(1);
    auto entry = [&](const std::string& name, ProbeKind kind, bool pass) {
        CheckConfig config;
        config.name = name;
        config.target = *parse_target("tcp://127.0.0.1:1");
        config.policy = CheckPolicy{std::chrono::milliseconds(1000), std::chrono::milliseconds(500), 1, 1};
        config.probes[static_cast<int>(kind)] = true;
        CheckEntry e{config, CheckState(config.policy, t0)};
        e.state.record(check::CheckResult{pass ? check::Failure::none : check::Failure::connection_refused,
                                          pass ? "" : "connect 127.0.0.1:1: refused \"x\"\n", Duration{1}},
                       t0);
        return e;
    };
    std::vector<GroupEntry> groups(2);
    groups[0].checks = {entry("app", ProbeKind::liveness, true), entry("db", ProbeKind::readiness, false),
                        entry("started", ProbeKind::startup, true)};
    groups[1].name = "worker";
    groups[1].checks = {entry("queue", ProbeKind::readiness, true)};
    return groups;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::vector<GroupEntry> groups = make_groups();
    static const ServerLimits limits;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
    parser.body_limit(limits.body_bytes);
    parser.eager(true);
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(data, size), ec);
    if (ec || !parser.is_header_done()) return 0;
    const auto& request = parser.get();
    Snapshot snapshot{&groups, TimePoint{} + std::chrono::hours(1) + std::chrono::seconds(size % 5),
                      std::chrono::system_clock::time_point{}, size % 7 == 0};
    Response answer = handle(Request{request.method_string(), request.target(), request[http::field::accept]}, snapshot);
    FUZZ_CHECK(answer.status >= 200 && answer.status < 600);
    std::string head = response_head(answer, request.keep_alive(), request.version());
    // One status line and headers, no line break smuggled in from the request.
    FUZZ_CHECK(head.size() >= 4 && head.compare(head.size() - 4, 4, "\r\n\r\n") == 0);
    FUZZ_CHECK(head.find("\r\n\r\n") == head.size() - 4);
    return 0;
}
