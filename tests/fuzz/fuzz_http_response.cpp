// HTTP response heads (and the start of a body) as the http(s) check gets
// them from a server: Beast's parser with the check's limits, then the
// check's own decisions (redirect, Location, body rules, excerpt).
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <string>

#include "check/http_rules.hpp"
#include "fuzz_check.hpp"

namespace http = boost::beast::http;
using namespace healthgate;
using namespace healthgate::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    http::response_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(64 * 1024);
    parser.eager(true);
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(data, size), ec);
    if (!parser.is_header_done()) return 0;
    const auto& response = parser.get();
    int status = static_cast<int>(response.result_int());
    std::string location(response[http::field::location]);
    Origin origin{false, "api.ns.svc.cluster.local", 8080};
    for (int followed : {0, 5}) {
        (void)decide_redirect(status, location, origin, "api", "/healthz?x=1", followed, 5);
    }
    (void)resolve_location(origin, "/a/b/c", location);
    std::string excerpt = body_excerpt(response.body(), 200);
    FUZZ_CHECK(excerpt.find('\n') == std::string::npos);
    auto target = parse_target("http://127.0.0.1:1/#body=ok");
    FUZZ_CHECK(target.ok());
    (void)body_mismatch(response.body(), !parser.is_done(), target->options_as<HttpOptions>(), nullptr);
    return 0;
}
